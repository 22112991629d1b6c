/**
 * The hot path's counters and histograms must read exactly as prom-client's own: the same observations, scraped
 * through two registries, give the same text (and so pass `promtool` and feed the panel's Overview as before).
 */
import { describe, expect, it } from 'bun:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../runtime/observe/hot-metrics.ts';

const BUCKETS = [0.00005, 0.001, 0.25, 1];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const spec = (registers: Registry[]) => ({ name: 'demo_turn_duration_seconds', help: 'Time of a turn.', labelNames: ['service', 'actor_type'] as const, registers });
  const count = (registers: Registry[]) => ({ name: 'demo_turns_total', help: 'Turns.', labelNames: ['service', 'actor_type'] as const, registers });
  return {
    theirs,
    ours,
    histograms: [new Histogram({ ...spec([theirs]), buckets: BUCKETS }), new HotHistogram({ ...spec([ours]), buckets: BUCKETS })] as const,
    counters: [new Counter(count([theirs])), new HotCounter(count([ours]))] as const,
  };
}

describe('hot metrics', () => {
  it('should write the text prom-client writes for the same observations', async () => {
    const { theirs, ours, histograms, counters } = pair();
    const values = [0, 0.00005, 0.0004, 0.001, 0.2, 0.9, 3, 17.5];
    for (const h of histograms) {
      for (const v of values) h.labels('order', 'order').observe(v);
      h.labels('order', 'sku').observe(0.5);
    }
    for (const c of counters) {
      c.labels('order', 'order').inc();
      c.labels('order', 'order').inc(41);
      c.labels('inventory', 'sku').inc(0);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('demo_turn_duration_seconds_bucket{le="0.001",service="order",actor_type="order"} 4');
    expect(text).toContain('demo_turns_total{service="order",actor_type="order"} 42');
  });

  it('should write a series from its first use on, as prom-client does, not from the moment a child is bound', async () => {
    const { theirs, ours, histograms, counters } = pair();
    for (const h of histograms) h.labels('order', 'unused');
    for (const c of counters) c.labels('order', 'unused');
    for (const c of counters) c.labels('order', 'zero').inc(0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('unused');
  });

  it('should refuse what prom-client refuses: a wrong number of labels, a counter going down or by infinity, a value that is not finite', () => {
    const { histograms, counters } = pair();
    expect(() => histograms[1].labels('order')).toThrow('takes 2 label values');
    expect(() => counters[1].labels('order', 'order').inc(-1)).toThrow('finite number');
    expect(() => counters[1].labels('order', 'order').inc(Infinity)).toThrow('finite number');
    expect(() => histograms[1].labels('order', 'order').observe(Number.NaN)).toThrow('finite');
  });

  it('should zero its series on a registry reset, and keep counting through the children already held', async () => {
    const { theirs, ours, histograms, counters } = pair();
    const held = [counters[0].labels('order', 'order'), counters[1].labels('order', 'order')] as const;
    const heldH = [histograms[0].labels('order', 'order'), histograms[1].labels('order', 'order')] as const;
    for (const c of held) c.inc(3);
    for (const h of heldH) h.observe(0.5);
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).not.toContain('demo_turns_total{');
    expect(await ours.metrics()).toBe(await theirs.metrics());
    for (const c of held) c.inc(2);
    for (const h of heldH) h.observe(0.0004);
    expect(await ours.metrics()).toContain('demo_turns_total{service="order",actor_type="order"} 2');
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
