/**
 * How the kit judges a thrown error, in one place: whether it tells a breaker the dependency is failing, and whether
 * a retry may help. The defaults encode the rule — network errors, timeouts, HTTP 5xx and 429 are the
 * dependency's failures; a 4xx says the request was wrong, which the dependency answered correctly.
 */

import { BulkheadRejectedError, isInputErrorStatus, statusOf, TerminalError } from './errors.ts';

/**
 * What a finished call tells a breaker: `failure` counts against the dependency, `success` for it, and `ignored`
 * calls never count (the call did not really reach it, or our own caller gave up).
 */
export type CallOutcome = 'failure' | 'success' | 'ignored';

/**
 * The default breaker classification: a bulkhead rejection is ignored (the call never left this process), an error
 * carrying a 4xx input-error status is a success, everything else is a failure.
 *
 * @example
 * createCircuitBreaker({ name: 'payment', classify: (e) => (e instanceof CardDeclined ? 'success' : defaultClassify(e)) });
 */
export function defaultClassify(error: unknown): CallOutcome {
  if (error instanceof BulkheadRejectedError) return 'ignored';
  if (isInputErrorStatus(statusOf(error))) return 'success';
  return 'failure';
}

/**
 * The default retry decision: never a `TerminalError` or a 4xx input error (trying again cannot change the answer);
 * anything else — `RetryableError`s, timeouts, network errors, unknown errors — may be retried.
 *
 * @example
 * createRetry({ shouldRetry: (e) => !(e instanceof SyntaxError) && defaultShouldRetry(e) });
 */
export function defaultShouldRetry(error: unknown): boolean {
  if (error instanceof TerminalError) return false;
  return !isInputErrorStatus(statusOf(error));
}

/**
 * The `retryAfterMs` an error asks for, if any (`RetryableError` and its kin carry it).
 *
 * @example
 * retryAfterOf(new RetryableError('busy', { retryAfterMs: 500 })); // 500
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
