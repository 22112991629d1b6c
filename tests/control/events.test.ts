/**
 * The live event stream (SSE), in-process: a client connects, receives batches whose ids are the events' stream
 * ids, disconnects, and — reconnecting with `Last-Event-ID` (or `?from=`) — receives exactly the events written
 * after the last one it saw: none lost, none repeated. Filters, heartbeats, and the stream limit too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { rmSync } from 'node:fs';
import { openInspector, type InspectionEvent } from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, startRedisServer, testPrefix, waitFor } from '../helpers/redis.ts';
import { controlApp, sseReader } from './helpers.ts';

const prefix = testPrefix('control-events');
let control: Awaited<ReturnType<typeof controlApp>>;
let inspector: Awaited<ReturnType<typeof openInspector>>;

/** A numbered event; `n` comes back in `detail`. */
const chaosEvent = (n: number, source = 'test'): InspectionEvent => ({ type: 'chaos.injected', at: Date.now(), source, kind: 'error', target: 'x', detail: String(n) });

/** Writes events now (several stream entries, as processes do). */
async function write(from: number, to: number, source = 'test') {
  for (let n = from; n < to; n++) {
    inspector.inspect(chaosEvent(n, source));
    if (n % 7 === 6) await Bun.sleep(120); // the writer flushes every ~100 ms: several entries
  }
  await Bun.sleep(150);
}

beforeAll(async () => {
  control = await controlApp({ prefix, heartbeatMs: 300 });
  inspector = await openInspector({ source: 'test', redis: SHARED_REDIS, keyPrefix: prefix });
});
afterAll(async () => {
  await inspector.close();
  await control.close();
  await cleanupPrefix(prefix);
});

const numbers = (events: any[]) => events.map((e) => Number(e.detail));

describe('GET /control/events/stream', () => {
  it('should stream batches with ids, and resume after Last-Event-ID with exactly what followed', async () => {
    const res = await control.call('GET', '/control/events/stream', { headers: { origin: 'http://127.0.0.1:5173' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    const first = sseReader(res);
    await write(0, 20);
    const got = await first.events(20);
    expect(numbers(got)).toEqual([...Array(20).keys()]);
    for (const message of first.messages) {
      // The message id is the last event's id; every event carries its own.
      expect(message.id).toBe(message.data.at(-1).id);
      for (const e of message.data) expect(e.id).toMatch(/^\d+-\d+\/\d+$/);
    }
    expect(first.messages.length).toBeGreaterThan(1);
    expect(first.messages.length).toBeLessThan(20); // batched
    const lastSeen = first.messages.at(-1)!.id!;
    await first.close();
    await waitFor('the stream to close', () => control.ctx.streams.open === 0, 2_000);

    // While nobody listens, more happens.
    await write(20, 45);

    const again = await control.call('GET', '/control/events/stream', { headers: { 'last-event-id': lastSeen } });
    const second = sseReader(again);
    await second.events(25);
    await Bun.sleep(300); // anything repeated would have arrived by now
    expect(numbers(second.messages.flatMap((m) => m.data))).toEqual([...Array(25).keys()].map((i) => i + 20));

    // ...and it goes on live.
    await write(45, 50);
    expect(numbers(await second.events(30))).toEqual([...Array(30).keys()].map((i) => i + 20));
    await second.close();
  }, 15_000);

  it('should resume mid-batch from ?from=<entry>/<index>', async () => {
    const history = (await control.json('GET', '/control/events?type=chaos.injected&limit=1000')).body as any[];
    const pick = history.find((e) => Number(e.detail) === 10)!;
    const res = await control.call('GET', `/control/events/stream?from=${encodeURIComponent(pick.id)}&type=chaos.injected`);
    const reader = sseReader(res);
    expect(numbers(await reader.events(39))).toEqual([...Array(39).keys()].map((i) => i + 11));
    await reader.close();
  });

  it('should filter by type family and source, and send heartbeats while idle', async () => {
    const res = await control.call('GET', '/control/events/stream?type=chaos.*&source=other');
    const reader = sseReader(res);
    await write(100, 103, 'test');
    await write(200, 203, 'other');
    expect(numbers(await reader.events(3))).toEqual([200, 201, 202]);
    await reader.comment((c) => c.startsWith('heartbeat'), 2_000);
    await Bun.sleep(200);
    expect(numbers(reader.messages.flatMap((m) => m.data))).toEqual([200, 201, 202]);
    await reader.close();
  });

  it('should refuse streams beyond the limit, and free a slot when one closes', async () => {
    await waitFor('earlier streams to close', () => control.ctx.streams.open === 0, 2_000);
    const max = control.ctx.streams.max;
    control.ctx.streams.max = 1;
    try {
      const one = sseReader(await control.call('GET', '/control/events/stream'));
      const refused = await control.json('GET', '/control/events/stream');
      expect([refused.status, refused.body.code]).toEqual([503, 'TOO_MANY_STREAMS']);
      await one.close();
      await waitFor('the slot to free', () => control.ctx.streams.open === 0, 2_000);
      const two = await control.call('GET', '/control/events/stream');
      expect(two.status).toBe(200);
      await two.body!.cancel();
    } finally {
      control.ctx.streams.max = max;
    }
  });
});

describe('GET /control/stats', () => {
  it('should count sagas from saga.step events as they arrive', async () => {
    const at = Date.now();
    const steps: InspectionEvent[] = [
      { type: 'saga.step', at, source: 'order', saga: 'fulfillment', sagaId: 'o1', step: 'createOrder', phase: 'started' },
      { type: 'saga.step', at, source: 'order', saga: 'fulfillment', sagaId: 'o2', step: 'createOrder', phase: 'started' },
      { type: 'saga.step', at, source: 'order', saga: 'fulfillment', sagaId: 'o1', step: 'saga', phase: 'completed', durationMs: 120 },
    ];
    for (const e of steps) inspector.inspect(e);
    const stats = await waitFor('the stats to count them', async () => {
      const { body } = await control.json('GET', '/control/stats');
      return body.sagas.completed === 1 ? body : null;
    });
    expect(stats).toEqual({ sagas: { completed: 1, compensated: 0, parked: 0, running: 1 }, ordersPerSec: 0.2, sagaLatencyMs: { p50: 120, p99: 120 } });
  });
});

describe('the live stream and a Redis outage', () => {
  it('should keep the stream open through a Redis restart and deliver what is written after it', async () => {
    const redis = await startRedisServer();
    const own = await controlApp({ prefix: 'blip', redis: redis.url, follow: false });
    const writer = await openInspector({ source: 'test', redis: redis.url, keyPrefix: 'blip' });
    let restarted: Awaited<ReturnType<typeof startRedisServer>> | undefined;
    try {
      const reader = sseReader(await own.call('GET', '/control/events/stream'));
      for (let n = 0; n < 5; n++) writer.inspect(chaosEvent(n));
      expect(numbers(await reader.events(5))).toEqual([0, 1, 2, 3, 4]);

      // Redis goes away and comes back (AOF keeps the stream) on the same port.
      redis.proc.kill('SIGTERM');
      await redis.proc.exited;
      await Bun.sleep(300);
      restarted = await startRedisServer({ port: redis.port, dir: redis.dir });
      await Bun.sleep(300);
      for (let n = 5; n < 10; n++) writer.inspect(chaosEvent(n));
      expect(numbers(await reader.events(10, 8_000))).toEqual([...Array(10).keys()]);
      await reader.close();
    } finally {
      await writer.close().catch(() => {});
      await own.close().catch(() => {});
      await restarted?.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }, 20_000);
});
