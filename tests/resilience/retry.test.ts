import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { seededRandom, SimulatedClock } from '../../runtime/index.ts';
import { createRetry, RetryableError, TerminalError, type RetryOptions } from '../../runtime/resilience/index.ts';
import { collector, drive, flush, track } from './support.ts';

function setup(options: RetryOptions = {}, seed = 1) {
  const clock = new SimulatedClock(0);
  const inspection = collector();
  const retry = createRetry({ name: 'inventory', source: 'order', clock, random: seededRandom(seed), inspector: inspection.inspector, ...options });
  return { clock, inspection, retry };
}

/** An operation that fails with each given error in turn, then succeeds; remembers when it was called. */
function scripted(clock: SimulatedClock, errors: unknown[]) {
  const calledAt: number[] = [];
  const operation = async (): Promise<string> => {
    calledAt.push(clock.now());
    const error = errors[calledAt.length - 1];
    if (error !== undefined) throw error;
    return 'done';
  };
  return { operation, calledAt };
}

describe('Retry', () => {
  it('should keep every delay within its full-jitter bounds, drawn from the random source, for 1,000 seeds', async () => {
    const ratios: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const { clock, inspection, retry } = setup({ maxAttempts: 7, baseDelayMs: 100, multiplier: 2, maxDelayMs: 2_000 }, seed);
        const failing = scripted(clock, Array.from({ length: 7 }, (_, i) => new Error(`failure ${i + 1}`)));
        const outcome = await drive(clock, retry.execute(failing.operation), 50);
        expect(outcome.error).toMatchObject({ message: 'failure 7' });
        const attempts = inspection.of('retry.attempt');
        expect(attempts.map((a) => a.attempt)).toEqual([2, 3, 4, 5, 6, 7]);
        // The same seed replayed: each delay is exactly one draw times the cap (full jitter, not "equal" jitter).
        const random = seededRandom(seed);
        for (const { attempt, delayMs } of attempts) {
          const cap = Math.min(2_000, 100 * 2 ** (attempt - 2));
          expect(delayMs).toBeGreaterThanOrEqual(0);
          expect(delayMs).toBeLessThan(cap);
          expect(delayMs).toBe(random() * cap);
          ratios.push(delayMs / cap);
        }
        // And the operation really waited that long between attempts (within the drive step).
        for (let i = 1; i < failing.calledAt.length; i++) {
          const waited = failing.calledAt[i]! - failing.calledAt[i - 1]!;
          expect(waited).toBeGreaterThanOrEqual(attempts[i - 1]!.delayMs);
          expect(waited).toBeLessThan(attempts[i - 1]!.delayMs + 50 + 1);
        }
      }),
      { numRuns: 1_000 },
    );
    // Full jitter spreads delays over the whole range: the mean is near half the cap.
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('should give up after maxAttempts with the last error', async () => {
    const { clock, retry } = setup({ maxAttempts: 3 });
    const failing = scripted(clock, [new Error('one'), new Error('two'), new Error('three'), undefined]);
    const outcome = await drive(clock, retry.execute(failing.operation));
    expect(outcome.error).toMatchObject({ message: 'three' });
    expect(failing.calledAt).toHaveLength(3);
  });

  it('should return the first success', async () => {
    const { clock, retry, inspection } = setup({ maxAttempts: 5 });
    const flaky = scripted(clock, [new Error('one')]);
    expect(await drive(clock, retry.execute(flaky.operation))).toEqual({ value: 'done' });
    expect(inspection.of('retry.attempt')).toMatchObject([
      { type: 'retry.attempt', source: 'order', policy: 'inventory', attempt: 2, maxAttempts: 5, error: 'Error: one' },
    ]);
  });

  it('should stop at once on a terminal error or a 4xx input error', async () => {
    for (const error of [new TerminalError('card declined', { status: 402 }), Object.assign(new Error('bad request'), { status: 400 })]) {
      const { clock, retry } = setup({ maxAttempts: 5 });
      const failing = scripted(clock, [error, undefined]);
      const outcome = await drive(clock, retry.execute(failing.operation));
      expect(outcome.error).toBe(error);
      expect(failing.calledAt).toHaveLength(1);
    }
  });

  it('should retry 429 and 5xx statuses', async () => {
    const { clock, retry } = setup({ maxAttempts: 3 });
    const failing = scripted(clock, [Object.assign(new Error('slow down'), { status: 429 }), Object.assign(new Error('oops'), { status: 503 })]);
    expect(await drive(clock, retry.execute(failing.operation))).toEqual({ value: 'done' });
    expect(failing.calledAt).toHaveLength(3);
  });

  it('should never retry sooner than an error’s retryAfterMs', async () => {
    const { clock, retry, inspection } = setup({ maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10_000 });
    const throttled = scripted(clock, [new RetryableError('rebalancing', { retryAfterMs: 5_000 })]);
    const call = track(retry.execute(throttled.operation));
    await flush();
    expect(inspection.of('retry.attempt')).toMatchObject([{ attempt: 2, delayMs: 5_000, retryAfterMs: 5_000 }]);
    clock.advance(4_999);
    await flush();
    expect(throttled.calledAt).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(throttled.calledAt).toEqual([0, 5_000]);
    expect(await call.result).toEqual({ value: 'done' });
  });

  it('should give up rather than wait longer than maxDelayMs when told to', async () => {
    const { clock, retry } = setup({ maxAttempts: 5, maxDelayMs: 2_000 });
    const error = new RetryableError('come back tomorrow', { retryAfterMs: 86_400_000 });
    const failing = scripted(clock, [error]);
    expect(await drive(clock, retry.execute(failing.operation))).toEqual({ error });
    expect(failing.calledAt).toHaveLength(1);
  });

  it('should stop waiting and reject with the reason when the signal aborts', async () => {
    const { clock, retry } = setup({ maxAttempts: 5, baseDelayMs: 1_000 });
    const failing = scripted(clock, [new Error('one'), new Error('two')]);
    const controller = new AbortController();
    const call = track(retry.execute(failing.operation, controller.signal));
    await flush();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await call.result).toEqual({ error: reason });
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(failing.calledAt).toHaveLength(1);
  });
});
