/**
 * Scenarios ported from Resilience4j's `CircuitBreakerStateMachineTest` / `CircuitBreakerConfigTest` and opossum's
 * `test/test.js`, run against Mailroom's breaker: a minimum that a count window can never reach, thresholds of 0
 * that would open on calls that all succeed, and Resilience4j's half-open evaluation beside "one failed probe
 * reopens".
 */

import { describe, expect, it } from 'bun:test';
import { SimulatedClock } from '../../runtime/clock.ts';
import { createCircuitBreaker, type CircuitBreakerOptions } from '../../runtime/resilience/index.ts';
import { deferred } from './support.ts';

const START = 1_700_000_000_000;

function setup(overrides: Partial<CircuitBreakerOptions> = {}) {
  const clock = new SimulatedClock(START);
  const breaker = createCircuitBreaker({ name: 'provider', clock, openWait: 5_000, ...overrides });
  const succeed = () => breaker.execute(async () => 'ok');
  const fail = () => breaker.execute(async () => Promise.reject(new Error('down'))).catch(() => 'failed');
  /** A call that takes `ms` on the clock, failing or not. */
  const take = async (ms: number, failing = false) => {
    const gate = deferred();
    const call = breaker.execute(() => gate.promise).catch(() => 'failed');
    clock.advance(ms);
    if (failing) gate.reject(new Error('slow and down'));
    else gate.resolve();
    return call;
  };
  const toHalfOpen = async () => {
    for (let i = 0; i < 5; i++) await fail();
    expect(breaker.state).toBe('open');
    clock.advance(5_000);
    expect(breaker.state).toBe('halfOpen');
  };
  return { clock, breaker, succeed, fail, take, toHalfOpen };
}

describe('CircuitBreaker (Resilience4j and opossum scenarios)', () => {
  describe('minimum calls and a count window', () => {
    it('should judge a full count window smaller than the minimum (Resilience4j: minimum = min(minimumCalls, size))', async () => {
      // Resilience4j shouldOpenAfterFailureRateThresholdExceeded: a window of 5, 3 failures and 2 successes → 60 %.
      const { breaker, succeed, fail } = setup({ window: { kind: 'count', size: 5 } });
      for (let i = 0; i < 3; i++) await fail();
      await succeed();
      expect(breaker.state).toBe('closed');
      await succeed();
      expect(breaker.state).toBe('open');
      expect(breaker.stats().reason).toBe('opened: 3 of 5 calls failed (60%) ≥ 50% within the last 5 calls');
      expect(breaker.stats().thresholds.minimumCalls).toBe(5);
    });

    it('should keep a minimum below the window size as configured', async () => {
      const { breaker, fail } = setup({ window: { kind: 'count', size: 20 }, minimumCalls: 4 });
      for (let i = 0; i < 3; i++) await fail();
      expect(breaker.state).toBe('closed');
      await fail();
      expect(breaker.state).toBe('open');
    });
  });

  describe('thresholds that would open on calls that all succeed', () => {
    it('should reject a 0 % failure-rate threshold with a clear error', () => {
      // With ≥ 0 % every judged window is "over" it: ten good calls would open the breaker.
      expect(() => setup({ failureRateThreshold: 0 })).toThrow('failureRateThreshold must be a percentage above 0 and at most 100, got 0');
    });

    it('should reject a 0 % slow-call-rate threshold with a clear error', () => {
      expect(() => setup({ slowCallRateThreshold: 0 })).toThrow('slowCallRateThreshold must be a percentage above 0 and at most 100, got 0');
    });

    it('should reject a slow-call duration of 0 ms (every call would be slow) with a clear error', () => {
      expect(() => setup({ slowCallDurationMs: 0 })).toThrow('slowCallDurationMs must be a number of milliseconds above 0, got 0');
      expect(() => setup({ slowCallDurationMs: -5 })).toThrow('slowCallDurationMs must be a number of milliseconds above 0, got -5');
    });

    it('should reject out-of-range percentages and a non-integer minimum', () => {
      expect(() => setup({ failureRateThreshold: 101 })).toThrow('failureRateThreshold must be a percentage above 0 and at most 100, got 101');
      expect(() => setup({ minimumCalls: 0 })).toThrow('minimumCalls must be an integer ≥ 1, got 0');
    });

    it('should stay closed on calls that all succeed at the lowest valid thresholds (opossum: errorThresholdPercentage)', async () => {
      const { breaker, succeed } = setup({ failureRateThreshold: 0.1, slowCallRateThreshold: 0.1, slowCallDurationMs: 1, minimumCalls: 1 });
      for (let i = 0; i < 20; i++) await succeed();
      expect(breaker.state).toBe('closed');
    });
  });

  describe("half-open: 'evaluate' (Resilience4j) beside 'first-failure'", () => {
    const evaluate = { halfOpen: 'evaluate', halfOpenProbes: 4, minimumCalls: 5, window: { kind: 'count', size: 5 } } as const;

    it('should reject an unknown half-open mode', () => {
      expect(() => setup({ halfOpen: 'sometimes' as never })).toThrow("halfOpen must be 'first-failure' or 'evaluate', got sometimes");
    });

    it("should reopen on the first failed probe in 'first-failure' mode (the default)", async () => {
      const subject = setup({ halfOpenProbes: 4, minimumCalls: 5, window: { kind: 'count', size: 5 } });
      await subject.toHalfOpen();
      await subject.fail();
      expect(subject.breaker.state).toBe('open');
      expect(subject.breaker.stats().reason).toBe('reopened: probe failed (Error: down)');
    });

    it('should run every probe and close when their failure rate stays under the threshold (1 of 4 = 25 %)', async () => {
      const subject = setup(evaluate);
      await subject.toHalfOpen();
      await subject.fail();
      await subject.succeed();
      await subject.succeed();
      expect(subject.breaker.state).toBe('halfOpen');
      expect(subject.breaker.stats().probes).toMatchObject({ permitted: 4, admitted: 3, succeeded: 2, failed: 1, slow: 0 });
      await subject.succeed();
      expect(subject.breaker.state).toBe('closed');
      expect(subject.breaker.stats().reason).toBe('closed: 1 of 4 probes failed (25%) < 50%, 0 took ≥ 10 s (0%) < 100%');
    });

    it('should reopen when the probes fail at the threshold (2 of 4 = 50 %), only after all have run', async () => {
      // Resilience4j shouldOpenAfterHalfOpenStateWithFailureRateAboveThreshold.
      const subject = setup(evaluate);
      await subject.toHalfOpen();
      await subject.fail();
      await subject.fail();
      await subject.succeed();
      expect(subject.breaker.state).toBe('halfOpen');
      await subject.succeed();
      expect(subject.breaker.state).toBe('open');
      expect(subject.breaker.stats().reason).toBe('reopened: 2 of 4 probes failed (50%) ≥ 50%');
      subject.clock.advance(5_000);
      expect(subject.breaker.state).toBe('halfOpen');
      expect(subject.breaker.stats().probes).toMatchObject({ admitted: 0, succeeded: 0, failed: 0, slow: 0 });
    });

    it('should reopen on the slow-call rate of the probes (3 of 4 slow = 75 % ≥ 50 %)', async () => {
      // Resilience4j shouldOpenAfterHalfOpenStateWithSlowCallRateAboveThreshold.
      const subject = setup({ ...evaluate, slowCallDurationMs: 4_000, slowCallRateThreshold: 50 });
      await subject.toHalfOpen();
      await subject.take(5_000);
      await subject.take(5_000, true);
      await subject.take(100);
      expect(subject.breaker.state).toBe('halfOpen');
      await subject.take(5_000);
      expect(subject.breaker.state).toBe('open');
      expect(subject.breaker.stats().reason).toBe('reopened: 3 of 4 probes took ≥ 4 s (75%) ≥ 50%');
    });

    it('should still let exactly the permitted probes through at once', async () => {
      const subject = setup(evaluate);
      await subject.toHalfOpen();
      const gate = deferred();
      let reached = 0;
      const calls = Array.from({ length: 10 }, () =>
        subject.breaker
          .execute(async () => {
            reached++;
            await gate.promise;
          })
          .then(
            () => 'passed',
            () => 'rejected',
          ),
      );
      await Promise.resolve();
      expect(reached).toBe(4);
      gate.resolve();
      expect((await Promise.all(calls)).filter((r) => r === 'passed')).toHaveLength(4);
      expect(subject.breaker.state).toBe('closed');
    });
  });
});
