import { describe, expect, it } from 'bun:test';
import { retryAfterOf, retryDelayMs, RETRY_AFTER_CAP_MS, type SagaRetryPolicy } from '../../runtime/saga/retry-delay.ts';

const compensation: SagaRetryPolicy = { maxAttempts: 8, baseBackoffMs: 200, maxBackoffMs: 10_000, multiplier: 2, retryAfterBudgetMs: 600_000 };

describe('retryDelayMs', () => {
  it('should double the backoff per try up to its cap, jittered between half and all of it', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(compensation, n, () => 0))).toEqual([100, 200, 400]);
    expect([1, 2, 3].map((n) => retryDelayMs(compensation, n, () => 0.999_999))).toEqual([200, 400, 800]);
    expect(retryDelayMs(compensation, 20, () => 0.999_999)).toBe(10_000);
  });

  it('should never wait less than the participant asked for', () => {
    expect(retryDelayMs(compensation, 1, () => 0.5, 7_000)).toBe(7_000);
    expect(retryDelayMs(compensation, 7, () => 0.999_999, 5)).toBe(10_000);
    expect(retryDelayMs(compensation, 1, () => 0.5, 10 * RETRY_AFTER_CAP_MS)).toBe(RETRY_AFTER_CAP_MS);
  });
});

describe('retryAfterOf', () => {
  it('should read a positive retryAfterMs and take anything else as none', () => {
    expect(retryAfterOf({ retryAfterMs: 8_000 })).toBe(8_000);
    expect([undefined, {}, { retryAfterMs: -1 }, { retryAfterMs: Number.NaN }, { retryAfterMs: '100' }].map((r) => retryAfterOf(r as any))).toEqual([0, 0, 0, 0, 0]);
  });
});
