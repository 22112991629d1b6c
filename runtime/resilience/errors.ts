/**
 * The errors of the resilience kit, each carrying its meaning (after restate sdk-typescript `src/types/errors.ts`):
 * a `TerminalError` is never retried, a `RetryableError` may say when to try again (`retryAfterMs`). The errors a
 * gateway may pass on to an HTTP caller also carry a literal `code` and a `status` (after elysia `src/error.ts`) and
 * serialise to a body a person can act on.
 */

import type { BreakerState } from '../inspection.ts';

type ErrorOptions = { status?: number; cause?: unknown };

/**
 * An error that must not be retried: retrying cannot change the outcome (a declined card, a validation failure).
 * `status` is the HTTP status it maps to; a 4xx status also tells a breaker the dependency itself is healthy.
 *
 * @example
 * throw new TerminalError('card declined', { status: 402 });
 */
export class TerminalError extends Error {
  override name = 'TerminalError';
  readonly status: number;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.status = options.status ?? 500;
  }
}

/**
 * An error that may succeed when tried again, optionally after `retryAfterMs` (the retry policy never retries
 * sooner than that).
 *
 * @example
 * throw new RetryableError('inventory is rebalancing', { retryAfterMs: 2_000 });
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status ?? 503;
    this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * Wraps any thrown value as retryable, keeping it as the `cause`.
   *
   * @example
   * catch (error) { throw RetryableError.from(error, { retryAfterMs: 500 }); }
   */
  static from(cause: unknown, options: { retryAfterMs?: number } = {}): RetryableError {
    return new RetryableError(cause instanceof Error ? cause.message : String(cause), { ...options, cause });
  }
}

/** The shape every HTTP-facing error of the kit serialises to. */
export type ErrorBody = { code: string; message: string; retryAfterMs?: number };

/**
 * A call refused by a circuit breaker without reaching the dependency. `retryAfterMs` is when the breaker will next
 * let a probe through (0 while the half-open probes are still deciding).
 *
 * @example
 * catch (error) {
 *   if (error instanceof CircuitOpenError) headers.set('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
 * }
 */
export class CircuitOpenError extends RetryableError {
  override name = 'CircuitOpenError';
  readonly code = 'CIRCUIT_OPEN' as const;
  override readonly retryAfterMs: number;

  constructor(
    readonly breaker: string,
    readonly state: BreakerState,
    retryAfterMs: number,
  ) {
    super(
      state === 'halfOpen'
        ? `circuit "${breaker}" is half-open and its probe calls are taken; try again shortly`
        : `circuit "${breaker}" is ${state === 'forcedOpen' ? 'forced open' : 'open'}; retry after ${retryAfterMs} ms`,
      { status: 503, retryAfterMs },
    );
    this.retryAfterMs = retryAfterMs;
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }
}

/**
 * Work that did not finish within its time limit: one attempt (`scope: 'attempt'`) or the whole call including
 * retries (`scope: 'overall'`). The work's `AbortSignal` has been aborted with this error as its reason.
 *
 * @example
 * catch (error) { if (error instanceof TimeoutError && error.scope === 'overall') return cachedAnswer; }
 */
export class TimeoutError extends RetryableError {
  override name = 'TimeoutError';
  readonly code = 'TIMEOUT' as const;

  constructor(
    readonly timeoutMs: number,
    readonly scope: 'attempt' | 'overall',
  ) {
    super(`${scope === 'attempt' ? 'attempt' : 'call'} timed out after ${timeoutMs} ms`, { status: 504 });
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/**
 * A call a bulkhead turned away: its queue was full, or the call waited in the queue longer than allowed.
 *
 * @example
 * catch (error) { if (error instanceof BulkheadRejectedError) return new Response('busy', { status: error.status }); }
 */
export class BulkheadRejectedError extends RetryableError {
  override name = 'BulkheadRejectedError';
  readonly code = 'BULKHEAD_REJECTED' as const;

  constructor(
    readonly bulkhead: string,
    readonly reason: 'queue-full' | 'queue-timeout',
  ) {
    super(
      reason === 'queue-full'
        ? `bulkhead "${bulkhead}" is at its concurrency limit and its queue is full`
        : `waited too long for a free slot in bulkhead "${bulkhead}"`,
      { status: 503 },
    );
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/**
 * A dependency answered with a status that counts as its failure (5xx, or 429 Too Many Requests). It maps to 502 for
 * our own caller; `upstreamStatus` is what the dependency said, `retryAfterMs` its `Retry-After`, if any.
 *
 * @example
 * catch (error) { if (error instanceof UpstreamStatusError && error.upstreamStatus === 429) slowDown(); }
 */
export class UpstreamStatusError extends RetryableError {
  override name = 'UpstreamStatusError';
  readonly code = 'UPSTREAM_STATUS' as const;

  constructor(
    readonly dependency: string,
    readonly upstreamStatus: number,
    options: { retryAfterMs?: number; body?: string } = {},
  ) {
    super(
      `${dependency} answered ${upstreamStatus}${options.body ? `: ${options.body.slice(0, 200)}` : ''}`,
      { status: 502, retryAfterMs: options.retryAfterMs },
    );
  }

  toJSON(): ErrorBody {
    return this.retryAfterMs === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }
}

/**
 * A dependency could not be reached at all (connection refused, reset, DNS). The original error is the `cause`.
 *
 * @example
 * catch (error) { if (error instanceof NetworkError) log.warn(error.message, error.cause); }
 */
export class NetworkError extends RetryableError {
  override name = 'NetworkError';
  readonly code = 'UPSTREAM_UNREACHABLE' as const;
  /** Made up by failure injection (chaos), not seen on a real connection. */
  injected = false;

  constructor(
    readonly dependency: string,
    cause: unknown,
  ) {
    super(`${dependency} could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`, {
      status: 502,
      cause,
    });
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/**
 * The HTTP status an error says it maps to, if it carries one (`status` as on the kit's errors and elysia's).
 *
 * @example
 * statusOf(new TerminalError('no such order', { status: 404 })); // 404
 */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True for a 4xx status that means "your request was wrong", as opposed to 408/429 ("not now").
 *
 * @example
 * isInputErrorStatus(422); // true
 * isInputErrorStatus(429); // false
 */
export function isInputErrorStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * A one-line description of a thrown value for reasons and inspection events: `Name: message`.
 *
 * @example
 * describeError(new TimeoutError(2_000, 'attempt')); // 'TimeoutError: attempt timed out after 2000 ms'
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  return String(error);
}
