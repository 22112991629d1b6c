import { describe, expect, it } from 'bun:test';
import { seededRandom, SimulatedClock } from '../../runtime/index.ts';
import {
  CircuitOpenError,
  createPolicy,
  createRetry,
  createTimeout,
  policyOrder,
  TimeoutError,
  wrap,
  type PolicyOptions,
} from '../../runtime/resilience/index.ts';
import { advance, collector, deferred, drive, flush, track } from './support.ts';
import { rejectionOf } from '../helpers/rejection.ts';

function setup<R = never>(options: Omit<PolicyOptions<R>, 'name'>) {
  const clock = new SimulatedClock(0);
  const inspection = collector();
  const policy = createPolicy<R>({ name: 'inventory', source: 'order', clock, random: seededRandom(3), inspector: inspection.inspector, ...options });
  return { clock, inspection, policy };
}

const hang = (): Promise<never> => deferred<never>().promise;

describe('createPolicy', () => {
  it('should nest its layers in the documented order, skipping absent ones', () => {
    expect(policyOrder).toEqual(['fallback', 'timeout', 'retry', 'circuitBreaker', 'bulkhead', 'attemptTimeout']);
    const full = setup({
      fallback: { fallback: () => 'cached' },
      timeoutMs: 5_000,
      retry: {},
      circuitBreaker: {},
      bulkhead: { maxConcurrent: 1 },
      attemptTimeoutMs: 1_000,
    }).policy;
    expect(full.layers).toEqual([...policyOrder]);
    expect(setup({ attemptTimeoutMs: 1_000, retry: {} }).policy.layers).toEqual(['retry', 'attemptTimeout']);
  });

  it('should count attempt timeouts as breaker failures and retry them (attempt timeout inside breaker and retry)', async () => {
    const { clock, policy, inspection } = setup({
      retry: { maxAttempts: 3, baseDelayMs: 10 },
      circuitBreaker: { window: { kind: 'count', size: 10 }, minimumCalls: 3, failureRateThreshold: 100 },
      attemptTimeoutMs: 1_000,
    });
    let attempts = 0;
    const outcome = await drive(
      clock,
      policy.execute(() => {
        attempts++;
        return hang();
      }),
    );
    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(outcome.error).toMatchObject({ scope: 'attempt' });
    expect(attempts).toBe(3);
    expect(inspection.of('retry.attempt').map((e) => e.error)).toEqual([
      'TimeoutError: attempt timed out after 1000 ms',
      'TimeoutError: attempt timed out after 1000 ms',
    ]);
    expect(policy.circuitBreaker?.stats()).toMatchObject({
      state: 'open',
      reason: 'opened: 3 of 3 calls failed (100%) ≥ 100% within the last 10 calls',
    });
  });

  it('should fail fast on an open breaker without queueing in the bulkhead (breaker outside bulkhead)', async () => {
    const { policy } = setup({ circuitBreaker: {}, bulkhead: { maxConcurrent: 1, maxQueue: 10 } });
    const busy = track(policy.execute(hang));
    await flush();
    expect(policy.bulkhead?.stats()).toMatchObject({ active: 1, queued: 0 });
    policy.circuitBreaker?.forceOpen();
    let reached = false;
    const rejected = track(policy.execute(async () => void (reached = true)));
    await flush();
    expect(rejected.settled()).toBe(true);
    expect((await rejected.result).error).toBeInstanceOf(CircuitOpenError);
    expect(policy.bulkhead?.stats()).toMatchObject({ active: 1, queued: 0 });
    expect(reached).toBe(false);
    expect(busy.settled()).toBe(false);
  });

  it('should not count bulkhead rejections as breaker failures', async () => {
    const { policy } = setup({
      circuitBreaker: { window: { kind: 'count', size: 10 }, minimumCalls: 1, failureRateThreshold: 1 },
      bulkhead: { maxConcurrent: 1, maxQueue: 0 },
    });
    const gate = deferred();
    const busy = policy.execute(() => gate.promise);
    for (let i = 0; i < 5; i++) expect(await rejectionOf(policy.execute(async () => 1))).toMatchObject({ name: 'BulkheadRejectedError' });
    expect(policy.circuitBreaker?.state).toBe('closed');
    gate.resolve();
    await busy;
    expect(policy.circuitBreaker?.stats().window).toMatchObject({ calls: 1, failures: 0 });
  });

  it('should let retry wait out an open breaker’s retryAfterMs and get through as a probe (retry outside breaker)', async () => {
    const { clock, policy, inspection } = setup({
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10_000 },
      circuitBreaker: { window: { kind: 'count', size: 10 }, minimumCalls: 1, openWait: 2_000, halfOpenProbes: 1 },
    });
    expect((await rejectionOf(policy.circuitBreaker!.execute(() => Promise.reject(new Error('down'))))).message).toContain('down');
    expect(policy.circuitBreaker?.state).toBe('open');
    const openedAt = clock.now();
    clock.advance(500);
    const calledAt: number[] = [];
    const call = policy.execute(async () => {
      calledAt.push(clock.now());
      return 'recovered';
    });
    expect(await drive(clock, call, 100)).toEqual({ value: 'recovered' });
    expect(inspection.of('retry.attempt').at(-1)).toMatchObject({ attempt: 2, delayMs: 1_500, retryAfterMs: 1_500, error: expect.stringContaining('CircuitOpenError') });
    expect(calledAt).toEqual([openedAt + 2_000]);
    expect(policy.circuitBreaker?.state).toBe('closed');
  });

  it('should bound retries and their waits by the overall timeout, cancelling the attempt in flight', async () => {
    const { clock, policy } = setup({ timeoutMs: 1_000, retry: { maxAttempts: 10, baseDelayMs: 400, multiplier: 1 } });
    const signals: AbortSignal[] = [];
    const call = track(
      policy.execute((signal) => {
        signals.push(signal!);
        return Promise.reject(new Error('down'));
      }),
    );
    await advance(clock, 1_000);
    expect((await call.result).error).toMatchObject({ name: 'TimeoutError', scope: 'overall' });
    const attempts = signals.length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    clock.advance(60_000);
    await flush();
    expect(signals).toHaveLength(attempts);
  });

  it('should answer with the fallback for every failure inside, the overall timeout included (fallback outermost)', async () => {
    const { clock, policy } = setup({
      fallback: { fallback: (error) => `cached (${(error as Error).name})` },
      timeoutMs: 1_000,
      circuitBreaker: {},
    });
    const late = track(policy.execute(hang));
    clock.advance(1_000);
    expect(await late.result).toEqual({ value: 'cached (TimeoutError)' });
    policy.circuitBreaker?.forceOpen();
    expect(await policy.execute(async () => 'fresh')).toBe('cached (CircuitOpenError)');
  });
});

describe('wrap', () => {
  it('should nest policies with the first outermost', async () => {
    const clock = new SimulatedClock(0);
    // Timeout outside retry: one budget for all attempts. Swapped, each attempt would get its own 1 s.
    const budgeted = wrap(createTimeout({ ms: 1_000, clock }), createRetry({ maxAttempts: 5, baseDelayMs: 1, clock, random: () => 0 }));
    let attempts = 0;
    const call = track(
      budgeted.execute(() => {
        attempts++;
        return new Promise<never>((_, reject) => clock.setTimeout(() => reject(new Error('slow failure')), 600));
      }),
    );
    await advance(clock, 1_000);
    expect((await call.result).error).toMatchObject({ name: 'TimeoutError' });
    expect(attempts).toBe(2);
  });
});
