import { describe, expect, it } from 'bun:test';
import { seededRandom, SimulatedClock } from '../../runtime/index.ts';
import { BulkheadRejectedError, createBulkhead } from '../../runtime/resilience/index.ts';
import { collector, deferred, drive, flush, track } from './support.ts';
import { rejectionOf } from '../helpers/rejection.ts';

function setup(maxConcurrent: number, maxQueue: number, queueTimeoutMs?: number) {
  const clock = new SimulatedClock(0);
  const inspection = collector();
  const bulkhead = createBulkhead({ name: 'payment-provider', source: 'payment', maxConcurrent, maxQueue, queueTimeoutMs, clock, inspector: inspection.inspector });
  return { clock, inspection, bulkhead };
}

describe('Bulkhead', () => {
  it('should never run more than its limit under 1,000 concurrent callers, and finish them all', async () => {
    const { clock, bulkhead } = setup(10, 1_000);
    const random = seededRandom(7);
    let active = 0;
    let peak = 0;
    const calls = Array.from({ length: 1_000 }, (_, i) =>
      bulkhead.execute(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 1 + Math.floor(random() * 50)));
        active--;
        return i;
      }),
    );
    expect(bulkhead.stats()).toMatchObject({ active: 10, queued: 990 });
    const results = await drive(clock, Promise.all(calls), 5);
    expect(results.value).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(peak).toBe(10);
    expect(bulkhead.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('should hand freed slots to waiters in the order they came', async () => {
    const { bulkhead } = setup(1, 10);
    const order: number[] = [];
    const gate = deferred();
    const first = bulkhead.execute(() => gate.promise);
    const rest = [1, 2, 3].map((n) => bulkhead.execute(async () => void order.push(n)));
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(order).toEqual([1, 2, 3]);
  });

  it('should reject with queue-full when every slot and queue place is taken', async () => {
    const { bulkhead, inspection } = setup(2, 1);
    const gate = deferred();
    const held = [0, 1, 2].map(() => bulkhead.execute(() => gate.promise));
    const error = await bulkhead.execute(async () => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toMatchObject({ code: 'BULKHEAD_REJECTED', status: 503, reason: 'queue-full', bulkhead: 'payment-provider' });
    expect(inspection.of('bulkhead.rejected')).toEqual([
      { type: 'bulkhead.rejected', at: 0, source: 'payment', bulkhead: 'payment-provider', reason: 'queue-full', active: 2, queued: 1 },
    ]);
    gate.resolve();
    await Promise.all(held);
    expect(bulkhead.stats()).toMatchObject({ active: 0, queued: 0, rejected: { queueFull: 1, queueTimeout: 0 } });
  });

  it('should reject a waiter whose queue timeout passes, and keep the slot count right', async () => {
    const { clock, bulkhead, inspection } = setup(1, 5, 1_000);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const waiting = track(bulkhead.execute(async () => 'late'));
    clock.advance(999);
    await flush();
    expect(waiting.settled()).toBe(false);
    clock.advance(1);
    expect((await waiting.result).error).toMatchObject({ name: 'BulkheadRejectedError', reason: 'queue-timeout' });
    expect(inspection.of('bulkhead.rejected')).toMatchObject([{ reason: 'queue-timeout', active: 1, queued: 0, at: 1_000 }]);
    gate.resolve();
    await running;
    expect(bulkhead.stats()).toMatchObject({ active: 0, queued: 0, rejected: { queueTimeout: 1 } });
    expect(await bulkhead.execute(async () => 'next')).toBe('next');
  });

  it('should drop a waiter whose caller aborts, without running it', async () => {
    const { bulkhead } = setup(1, 5);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = track(bulkhead.execute(async () => void (ran = true), controller.signal));
    controller.abort(new Error('caller left'));
    expect((await waiting.result).error).toMatchObject({ message: 'caller left' });
    expect(bulkhead.stats().queued).toBe(0);
    gate.resolve();
    await running;
    expect(ran).toBe(false);
    expect(bulkhead.stats().active).toBe(0);
  });

  it('should free the slot when the operation throws', async () => {
    const { bulkhead } = setup(1, 0);
    expect((await rejectionOf(bulkhead.execute(() => Promise.reject(new Error('boom'))))).message).toContain('boom');
    expect(await bulkhead.execute(async () => 'ok')).toBe('ok');
  });
});
