/**
 * The Overview's charts come from the processes' Prometheus metrics: the control plane scrapes a real `/metrics`
 * (a service app's, over HTTP, answering this process's prom-client registry), and a chart's point must equal the
 * rate the test computes itself from two scrapes of the same metric — the counter's growth over the seconds between
 * them — and the latency quantile must be Prometheus' interpolation over the histogram's buckets.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createServiceApp } from '../../runtime/http/index.ts';
import { sagaDuration, sagasTotal, turnsTotal } from '../../runtime/observe/metrics.ts';
import { histogramQuantile, sumRate } from '../../services/control/metric-rates.ts';
import { OverviewScraper } from '../../services/control/overview-series.ts';
import { parsePrometheusText } from '../../services/control/prometheus-text.ts';

const app = createServiceApp({ name: 'series-demo', log: () => {} });
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => app.handle(req) });
const origin = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));

/** The sum of a metric's samples carrying `labels`, read from a scrape's text by plain string matching. */
function valueIn(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
const scrapeText = async () => (await fetch(`${origin}/metrics`)).text();

describe('the Overview series', () => {
  it('should plot, for each chart line, the rate of the metric over two scrapes of /metrics', async () => {
    let now = 1_000_000;
    const scraper = new OverviewScraper(() => [{ name: 'demo', url: origin }], { now: () => now, timeoutMs: 20_000 });
    await scraper.scrapeOnce();
    const first = await scrapeText();

    // What a shop does between two scrapes: orders start, actors apply messages, sagas finish.
    sagasTotal.labels('series-demo', 'fulfillment', 'started').inc(7);
    sagasTotal.labels('series-demo', 'fulfillment', 'completed').inc(3); // not an order started: not on the chart
    turnsTotal.labels('series-demo', 'order').inc(120);
    turnsTotal.labels('series-demo', 'sku').inc(45);
    for (const seconds of [0.02, 0.03, 0.04, 0.08, 0.3]) sagaDuration.labels('series-demo', 'fulfillment', 'completed').observe(seconds);

    now += 2_500;
    await scraper.scrapeOnce();
    const second = await scrapeText();

    const charts = Object.fromEntries(scraper.series().charts.map((c) => [c.id, c]));
    const throughput = charts.throughput!;
    expect(throughput.lines.map((l) => l.metric)).toEqual(['mailroom_sagas_total', 'mailroom_turns_total']);
    expect(throughput.points.map((p) => p.at)).toEqual([1_000_000, 1_002_500]);
    expect(throughput.points[0]!.values).toEqual([null, null]); // one scrape: no rate yet

    const seconds = 2.5;
    const ordersRate = (valueIn(second, 'mailroom_sagas_total', { outcome: 'started' }) - valueIn(first, 'mailroom_sagas_total', { outcome: 'started' })) / seconds;
    const turnsRate = (valueIn(second, 'mailroom_turns_total') - valueIn(first, 'mailroom_turns_total')) / seconds;
    expect(ordersRate).toBeCloseTo(7 / 2.5, 9);
    expect(turnsRate).toBeCloseTo(165 / 2.5, 9);
    const [orders, messages] = throughput.points[1]!.values;
    expect(orders!).toBeCloseTo(ordersRate, 9);
    expect(messages!).toBeCloseTo(turnsRate, 9);

    // p50 of five sagas: rank 2.5 falls in the (0.025, 0.05] bucket, which holds 2 of them after 1 below it.
    const bucket = (text: string, le: string) => valueIn(text, 'mailroom_saga_duration_seconds_bucket', { le });
    const below = bucket(second, '0.025') - bucket(first, '0.025');
    const within = bucket(second, '0.05') - bucket(first, '0.05') - below;
    expect({ below, within }).toEqual({ below: 1, within: 2 });
    const p50ms = (0.025 + (0.05 - 0.025) * ((2.5 - below) / within)) * 1000;
    const latency = charts.latency!;
    expect(latency.lines.map((l) => l.query)).toEqual([
      'histogram_quantile(0.5, sum by (le) (rate(mailroom_saga_duration_seconds_bucket[60s]))) * 1000',
      'histogram_quantile(0.99, sum by (le) (rate(mailroom_saga_duration_seconds_bucket[60s]))) * 1000',
    ]);
    expect(latency.points[1]!.values[0]!).toBeCloseTo(p50ms, 9);
    expect(scraper.series().targets).toEqual([{ name: 'demo', up: true }]);
  });

  it('should count a counter that went down (its process restarted) from zero, and sum the rates of several targets', () => {
    const text = (turns: number) => parsePrometheusText(`# TYPE mailroom_turns_total counter\nmailroom_turns_total{service="order",actor_type="order"} ${turns}\n`);
    const scrapes = [
      { target: 'order', at: 0, samples: text(500) },
      { target: 'order', at: 2_000, samples: text(40) }, // restarted: 40 since
      { target: 'shipping', at: 0, samples: text(10) },
      { target: 'shipping', at: 4_000, samples: text(30) },
    ];
    expect(sumRate(scrapes, { name: 'mailroom_turns_total' }, 10)).toBe(40 / 2 + 20 / 4);
    // Outside the window, the old scrapes do not count: one scrape per target, no rate.
    expect(sumRate([...scrapes, { target: 'order', at: 30_000, samples: text(50) }], { name: 'mailroom_turns_total' }, 10)).toBeNull();
  });

  it('should answer no quantile when nothing was observed, and the highest finite bound when the rank is in +Inf', () => {
    const hist = (counts: [string, number][]) => parsePrometheusText(counts.map(([le, n]) => `h_bucket{le="${le}"} ${n}`).join('\n'));
    const quiet = [
      { target: 'a', at: 0, samples: hist([['1', 2], ['+Inf', 2]]) },
      { target: 'a', at: 1_000, samples: hist([['1', 2], ['+Inf', 2]]) },
    ];
    expect(histogramQuantile(0.5, quiet, { name: 'h' }, 60)).toBeNull();
    const slow = [quiet[0]!, { target: 'a', at: 1_000, samples: hist([['1', 2], ['+Inf', 6]]) }];
    expect(histogramQuantile(0.99, slow, { name: 'h' }, 60)).toBe(1);
  });

  it('should mark a target that does not answer as down and still plot the others', async () => {
    const scraper = new OverviewScraper(() => [{ name: 'gone', url: 'http://127.0.0.1:9' }, { name: 'demo', url: origin }], { timeoutMs: 10_000 });
    await scraper.scrapeOnce();
    expect(scraper.series().targets).toEqual([{ name: 'gone', up: false }, { name: 'demo', up: true }]);
  });
});

describe('parsePrometheusText', () => {
  it('should read names, escaped label values and special values, skipping comments and garbage', () => {
    const samples = parsePrometheusText('# HELP x y\n# TYPE x counter\nx{a="q\\"uote",b="back\\\\slash"} 3\nh_bucket{le="+Inf"} +Inf\nnot a sample line\ny 4 1700000000000\n');
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: 'back\\slash' }, value: 3 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: Infinity },
      { name: 'y', labels: {}, value: 4 },
    ]);
  });
});
