import { describe, expect, it } from 'bun:test';
import { Batcher } from '../../panel/src/lib/models/batcher.ts';
import { EMPTY_FORM, ruleFromForm, targetWords } from '../../panel/src/lib/models/chaos-form.ts';
import { EVENT_GROUPS, eventLink, eventMeaning, matchesFilter, summarize } from '../../panel/src/lib/models/events.ts';
import { formatDuration, formatRate, timeLeft } from '../../panel/src/lib/models/format.ts';
import { meaningOf } from '../../panel/src/lib/models/meaning.ts';
import { appendBounded } from '../../panel/src/lib/models/ring.ts';
import { RollingSeries } from '../../panel/src/lib/models/series.ts';
import { topologyDiagram } from '../../panel/src/lib/models/topology-layout.ts';
import { visibleRange } from '../../panel/src/lib/models/virtual-window.ts';
import { takeToken } from '../../panel/src/lib/api/token.ts';
import type { InspectionEvent, ProcessRow } from '../../panel/src/lib/api/types.ts';

describe('takeToken', () => {
  it('should take the token out of the URL and keep the rest', () => {
    expect(takeToken('http://127.0.0.1:5173/?token=abc&x=1#/sagas')).toEqual({ token: 'abc', cleanUrl: 'http://127.0.0.1:5173/?x=1#/sagas' });
    expect(takeToken('http://127.0.0.1:5173/#/')).toEqual({ token: null, cleanUrl: 'http://127.0.0.1:5173/#/' });
  });
});

describe('meaningOf', () => {
  it('should give one meaning per state word, everywhere', () => {
    expect(['closed', 'completed', 'up'].map(meaningOf)).toEqual(['ok', 'ok', 'ok']);
    expect(['halfOpen', 'retrying', 'restarting'].map(meaningOf)).toEqual(['warn', 'warn', 'warn']);
    expect(['open', 'down', 'parked'].map(meaningOf)).toEqual(['bad', 'bad', 'bad']);
    expect(['compensating', 'compensated'].map(meaningOf)).toEqual(['comp', 'comp']);
    expect(meaningOf('forcedOpen')).toBe('forced');
    expect(meaningOf('undoChargePayment.waiting')).toBe('neutral');
  });
});

describe('format', () => {
  it('should say every number with its unit', () => {
    expect(formatDuration(530)).toBe('530 ms');
    expect(formatDuration(1530)).toBe('1.5 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatRate(12.345)).toBe('12.3 msg/s');
    expect(timeLeft(10_500, 1_000)).toBe('10 s left');
    expect(timeLeft(1_000, 2_000)).toBe('expired');
  });
});

describe('RollingSeries', () => {
  it('should keep the window, move forward only, and hand uPlot columns', () => {
    const s = new RollingSeries(2, 15);
    s.push(1_000, [1, 2]);
    s.push(500, [9, 9]); // older: ignored
    s.push(5_000, [3, null]);
    s.push(20_000, [4, Number.NaN]); // the sample at 1 s is now older than 15 s
    expect(s.data()).toEqual([[5, 20], [3, 4], [null, null]]);
    s.push(30_000, [5, 6]);
    expect(s.data()).toEqual([[20, 30], [4, 5], [null, 6]]);
    expect(s.latest(0)).toBe(5);
  });
});

describe('visibleRange', () => {
  it('should render only the rows on screen plus a margin, for any list length', () => {
    expect(visibleRange({ scrollTop: 3200, viewport: 600, rowHeight: 32, count: 100_000, overscan: 8 })).toEqual({ start: 92, end: 127, offsetTop: 2944, totalHeight: 3_200_000 });
    expect(visibleRange({ scrollTop: 0, viewport: 600, rowHeight: 32, count: 3 })).toEqual({ start: 0, end: 3, offsetTop: 0, totalHeight: 96 });
  });
});

describe('Batcher', () => {
  it('should flush at most once per interval, everything in order', () => {
    const timers: (() => void)[] = [];
    const flushed: number[][] = [];
    const b = new Batcher<number>((items) => flushed.push(items), 100, (fn) => timers.push(fn));
    b.push([1, 2]);
    b.push([3]);
    expect(timers.length).toBe(1);
    timers.shift()!();
    b.push([4]);
    timers.shift()!();
    expect(flushed).toEqual([[1, 2, 3], [4]]);
  });
});

describe('appendBounded', () => {
  it('should keep the newest items only', () => {
    expect(appendBounded([1, 2, 3], [4, 5], 4)).toEqual([2, 3, 4, 5]);
    expect(appendBounded([1], [2, 3, 4, 5, 6], 3)).toEqual([4, 5, 6]);
  });
});

describe('events', () => {
  const trip: InspectionEvent = { type: 'breaker.transition', at: 1, source: 'payment', breaker: 'provider', from: 'closed', to: 'open', reason: 'opened: 5 of 6 failed' };
  const step: InspectionEvent = { type: 'saga.step', at: 2, source: 'order', saga: 'fulfillment', sagaId: 'ord-1', step: 'chargePayment', phase: 'failed', reason: 'circuit open' };
  it('should summarise, link and filter events', () => {
    expect(summarize(trip)).toBe('breaker provider closed → open: opened: 5 of 6 failed');
    expect(eventLink(trip)).toEqual({ view: 'breakers', process: 'payment', dependency: 'provider' });
    expect(eventLink(step)).toEqual({ view: 'sagas', orderId: 'ord-1' });
    expect(matchesFilter(step, { types: new Set(['saga.step']), source: '', text: 'circuit' })).toBe(true);
    expect(matchesFilter(step, { types: new Set(['breaker.transition']), source: '', text: '' })).toBe(false);
    expect(matchesFilter(trip, { types: new Set(), source: 'gateway', text: '' })).toBe(false);
  });
  it('should say how many partitions a joining node runs, and when they are not what a new service gets', () => {
    const joined: InspectionEvent = { type: 'node.joined', at: 1, source: 'order', node: 'order-1', service: 'order', partitions: 8, partitionsFrom: 'registered', defaultPartitions: 2 };
    expect(summarize(joined)).toBe('node order-1 (order) joined, 8 partitions as the service first registered them in this Redis (a new service gets 2)');
    expect(summarize({ ...joined, partitions: 2, partitionsFrom: 'default', defaultPartitions: undefined })).toBe('node order-1 (order) joined, 2 partitions');
    expect(summarize({ type: 'node.left', at: 2, source: 'order', node: 'order-1', service: 'order', reason: 'stopped' })).toBe('node order-1 (order) left: stopped');
  });
  it('should say how many events a subscriber missed, and that it is bad news', () => {
    const gap: InspectionEvent = { type: 'subscriber.gap', at: 3, source: 'order', service: 'order', group: 'mailer', partition: 2, missed: 6, after: '1-0', before: '9-0', reason: 'trimmed-unread' };
    expect(summarize(gap)).toBe('subscriber mailer of order missed 6 events of partition 2 (trimmed before read)');
    expect(summarize({ ...gap, missed: null })).toContain('missed an unknown number of events');
    expect(eventMeaning(gap)).toBe('bad');
    expect(matchesFilter(gap, { types: new Set(EVENT_GROUPS.subscribers), source: '', text: '' })).toBe(true);
  });
});

describe('ruleFromForm', () => {
  it('should build the rule body from what was typed (numbers or strings)', () => {
    expect(ruleFromForm({ ...EMPTY_FORM, kind: 'latency', service: 'inventory', probability: 25, durationS: '30' })).toEqual({
      rule: { kind: 'latency', target: { service: 'inventory' }, probability: 0.25, latencyMs: { min: 200, max: 800 }, durationMs: 30_000 },
      problems: [],
    });
    expect(ruleFromForm({ ...EMPTY_FORM, kind: 'error', on: 'dependency', dependency: 'provider', service: '', status: 502 }).rule).toEqual({
      kind: 'error',
      target: { dependency: 'provider' },
      probability: 0.5,
      status: 502,
      durationMs: 60_000,
    });
  });

  it('should build a redis rule with its fault, for a service only', () => {
    expect(ruleFromForm({ ...EMPTY_FORM, kind: 'redis', service: 'payment', fault: 'reset', probability: 2 }).rule).toEqual({
      kind: 'redis',
      target: { service: 'payment' },
      probability: 0.02,
      fault: 'reset',
      durationMs: 60_000,
    });
    expect(ruleFromForm({ ...EMPTY_FORM, kind: 'redis', service: 'payment', messageType: 'charge' }).problems).toEqual([
      'a redis rule targets a service (its connections to Redis), not a message type',
    ]);
  });

  it('should name every problem and build nothing', () => {
    const { rule, problems } = ruleFromForm({ ...EMPTY_FORM, kind: 'drop', on: 'dependency', probability: '150', durationS: '0' });
    expect(rule).toBeNull();
    expect(problems).toEqual(["a drop rule targets a service's messages", 'probability is a percentage, 0–100', 'duration is 1–3600 s']);
    expect(targetWords({ dependency: 'provider', service: 'payment' })).toBe('dependency provider (from payment)');
    expect(targetWords({ service: 'inventory' }, 'drop-reply')).toBe("inventory's Redis calls: replies lost after they ran");
  });
});

describe('topologyDiagram', () => {
  it('should place each process once and join services by their summed message rates', () => {
    const p = (name: string): ProcessRow => ({ name, pid: 1, status: 'up', restarts: 0, uptimeMs: 1, url: '', port: 1, paused: false, upSince: 0, updatedAt: 0, seq: 0 });
    const { nodes, links } = topologyDiagram({
      processes: ['gateway', 'order', 'inventory', 'payment', 'provider', 'weird'].map(p),
      rates: {
        windowS: 10,
        services: [{ service: 'order', processedPerSec: 4 }],
        links: [
          { from: 'order', to: 'payment', perSec: 2 },
          { from: 'payment', to: 'order', perSec: 1.5 },
          { from: 'order', to: 'ghost', perSec: 9 },
        ],
      },
    });
    expect(new Set(nodes.map((n) => `${n.x},${n.y}`)).size).toBe(nodes.length);
    const orderPayment = links.find((l) => l.kind === 'messages')!;
    expect(orderPayment).toMatchObject({ from: 'order', to: 'payment', perSec: 3.5, label: '3.5 msg/s' });
    expect(links.filter((l) => l.kind === 'messages')).toHaveLength(1);
    expect(links.map((l) => l.id)).toContain('h:payment|provider');
    expect(links.some((l) => l.kind === 'events')).toBe(false);
  });

  it('should draw the order log’s subscription by notifications, with what notifications processes', () => {
    const p = (name: string): ProcessRow => ({ name, pid: 1, status: 'up', restarts: 0, uptimeMs: 1, url: '', port: 1, paused: false, upSince: 0, updatedAt: 0, seq: 0 });
    const { nodes, links } = topologyDiagram({
      processes: ['redis', 'gateway', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'control'].map(p),
      rates: { windowS: 10, services: [{ service: 'notifications', processedPerSec: 2.5 }], links: [] },
    });
    expect(new Set(nodes.map((n) => `${n.x},${n.y}`)).size).toBe(nodes.length);
    expect(links.find((l) => l.kind === 'events')).toMatchObject({ id: 'e:order|notifications', from: 'order', to: 'notifications', perSec: 2.5, label: 'events 2.5/s' });
  });
});
