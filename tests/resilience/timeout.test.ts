import { describe, expect, it } from 'bun:test';
import { SimulatedClock } from '../../runtime/index.ts';
import { createTimeout, TimeoutError } from '../../runtime/resilience/index.ts';
import { deferred, flush, track } from './support.ts';
import { rejectionOf } from '../helpers/rejection.ts';

describe('Timeout', () => {
  it('should abort the operation’s signal with a TimeoutError when the time is up', async () => {
    const clock = new SimulatedClock(0);
    const timeout = createTimeout({ ms: 2_000, clock });
    let seen: AbortSignal | undefined;
    const call = track(
      timeout.execute(
        (signal) =>
          new Promise((_, reject) => {
            seen = signal;
            signal?.addEventListener('abort', () => reject(new Error('fetch aborted')));
          }),
      ),
    );
    clock.advance(1_999);
    await flush();
    expect(call.settled()).toBe(false);
    expect(seen?.aborted).toBe(false);
    clock.advance(1);
    const { error } = await call.result;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', status: 504, scope: 'attempt', timeoutMs: 2_000, message: 'attempt timed out after 2000 ms' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('should reject on time even when the operation ignores its signal', async () => {
    const clock = new SimulatedClock(0);
    const timeout = createTimeout({ ms: 500, scope: 'overall', clock });
    const call = track(timeout.execute(() => deferred().promise));
    clock.advance(500);
    expect((await call.result).error).toMatchObject({ name: 'TimeoutError', scope: 'overall', message: 'call timed out after 500 ms' });
  });

  it('should return the result in time and leave no timer behind', async () => {
    const clock = new SimulatedClock(0);
    const timeout = createTimeout({ ms: 1_000, clock });
    expect(await timeout.execute(async () => 42)).toBe(42);
    expect(clock.pending).toBe(0);
    expect((await rejectionOf(timeout.execute(() => Promise.reject(new Error('own failure'))))).message).toContain('own failure');
    const sync = await rejectionOf(
      timeout.execute(() => {
        throw new Error('sync failure');
      }),
    );
    expect(sync.message).toContain('sync failure');
    expect(clock.pending).toBe(0);
  });

  it('should pass the caller’s abort on to the operation with the caller’s reason', async () => {
    const clock = new SimulatedClock(0);
    const timeout = createTimeout({ ms: 1_000, clock });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = track(
      timeout.execute((signal) => {
        seen = signal;
        return deferred().promise;
      }, controller.signal),
    );
    const reason = new Error('client went away');
    controller.abort(reason);
    expect(await call.result).toEqual({ error: reason });
    expect(seen?.reason).toBe(reason);
    expect(clock.pending).toBe(0);
  });
});
