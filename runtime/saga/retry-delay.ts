/**
 * How long a saga waits before trying a step, a compensation or a completion again: a backoff with jitter, and never
 * less than what the participant asked for (`retryAfterMs`, e.g. its circuit breaker is open). Pure, so the saga
 * computes it once in the transition that decides to retry and keeps it in its context for the durable timer.
 */
import type { Random } from '../clock.ts';

export type SagaRetryPolicy = {
  /** Tries that may fail (or time out) before the saga gives up; answers it waits out (see `retryAfterBudgetMs`) do not count. */
  maxAttempts: number;
  /** The pause after the first try; it grows by `multiplier` per try, up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
  /** How long, from the first try, answers carrying `retryAfterMs` may keep it waiting without using up attempts. */
  retryAfterBudgetMs: number;
};

/** A participant's retry-after is trusted up to an hour: a wilder number is a bug, not a plan. */
export const RETRY_AFTER_CAP_MS = 60 * 60_000;

/**
 * The pause before the try after try number `attempt`: the backoff for it, jittered between half and all of it
 * ("equal jitter": sagas retried together spread out, yet each always pauses), and at least `retryAfterMs`.
 *
 * @example
 * retryDelayMs({ maxAttempts: 8, baseBackoffMs: 200, maxBackoffMs: 10_000, multiplier: 2, retryAfterBudgetMs: 0 }, 3, () => 0.5); // 600
 * retryDelayMs({ maxAttempts: 8, baseBackoffMs: 200, maxBackoffMs: 10_000, multiplier: 2, retryAfterBudgetMs: 0 }, 1, () => 0.5, 7_000); // 7000
 */
export function retryDelayMs(policy: SagaRetryPolicy, attempt: number, random: Random, retryAfterMs = 0): number {
  const backoff = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * policy.multiplier ** Math.max(0, attempt - 1));
  const jittered = backoff / 2 + (random() * backoff) / 2;
  return Math.round(Math.max(jittered, Math.min(retryAfterMs, RETRY_AFTER_CAP_MS)));
}

/**
 * The retry-after a reply carries, in ms (0 when it carries none, or nonsense).
 *
 * @example
 * retryAfterOf({ type: 'payment.refundFailed', retryable: true, retryAfterMs: 8_000 }); // 8000
 */
export function retryAfterOf(reply: { retryAfterMs?: unknown } | undefined): number {
  const ms = reply?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}
