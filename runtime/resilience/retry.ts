/**
 * Retry with exponential backoff and full jitter (AWS's "full jitter": each delay is uniform between 0 and the
 * exponential cap, which spreads a crowd of retrying callers best). It only retries errors a retry can help, never
 * sooner than an error's `retryAfterMs` (a dependency's `Retry-After`, a breaker's wait), and gives up at once when
 * told to wait longer than `maxDelayMs` — waiting that long is no longer the caller's idea of a quick retry. Every
 * retry is an inspection event carrying its delay.
 */

import { systemClock, systemRandom, type Clock, type Random } from '../clock.ts';
import type { Inspector } from '../inspection.ts';
import { describeError } from './errors.ts';
import type { Operation, Policy } from './operation.ts';
import { defaultShouldRetry, retryAfterOf } from './outcomes.ts';

export type RetryOptions = {
  /** Names the policy in inspection events. Default `retry`. */
  name?: string;
  source?: string;
  /** Attempts in all, the first one included. Default 3. */
  maxAttempts?: number;
  /** The cap of the first retry's delay; each further retry multiplies it by `multiplier`. Default 100 ms. */
  baseDelayMs?: number;
  /** Default 2. */
  multiplier?: number;
  /** No single delay exceeds this. Default 10 s. */
  maxDelayMs?: number;
  /** Which errors may be retried. Default `defaultShouldRetry`: not `TerminalError`s, not 4xx input errors. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  clock?: Clock;
  random?: Random;
  inspector?: Inspector;
};

/**
 * A retry policy.
 *
 * @example
 * const retry = createRetry({ maxAttempts: 4, baseDelayMs: 200, clock, random });
 * const stock = await retry.execute((signal) => inventory.get(sku, { signal }));
 */
export class Retry implements Policy {
  readonly name: string;
  readonly maxAttempts: number;
  private readonly source: string;
  private readonly baseDelayMs: number;
  private readonly multiplier: number;
  private readonly maxDelayMs: number;
  private readonly shouldRetry: (error: unknown, attempt: number) => boolean;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly inspector: Inspector | undefined;

  constructor(options: RetryOptions = {}) {
    this.name = options.name ?? 'retry';
    this.source = options.source ?? this.name;
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer ≥ 1, got ${this.maxAttempts}`);
    }
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.multiplier = options.multiplier ?? 2;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.shouldRetry = options.shouldRetry ?? defaultShouldRetry;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.inspector = options.inspector;
  }

  /**
   * The upper bound of the jittered delay before `attempt` (2 = the first retry): `min(maxDelayMs, baseDelayMs ×
   * multiplier^(attempt − 2))`. The delay itself is uniform in [0, cap).
   *
   * @example
   * createRetry({ baseDelayMs: 100 }).delayCap(4); // 400
   */
  delayCap(attempt: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * this.multiplier ** (attempt - 2));
  }

  /**
   * Runs `operation` up to `maxAttempts` times. Throws the last error when attempts run out, when the error may not
   * be retried, when it asks for a wait over `maxDelayMs`, or when `signal` aborts (with the signal's reason).
   *
   * @example
   * await retry.execute((signal) => fetch(url, { signal }), AbortSignal.timeout(5_000));
   */
  async execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await operation(signal);
      } catch (error) {
        const delayMs = this.delayAfter(error, attempt, signal);
        if (delayMs === undefined) throw error;
        if (this.inspector !== undefined) {
          const retryAfterMs = retryAfterOf(error);
          this.inspector({
            type: 'retry.attempt',
            at: this.clock.now(),
            source: this.source,
            policy: this.name,
            attempt: attempt + 1,
            maxAttempts: this.maxAttempts,
            delayMs,
            error: describeError(error),
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          });
        }
        if (delayMs > 0) await sleep(this.clock, delayMs, signal);
      }
    }
  }

  /** The delay before the next attempt, or `undefined` to give up. */
  private delayAfter(error: unknown, attempt: number, signal: AbortSignal | undefined): number | undefined {
    if (attempt >= this.maxAttempts || signal?.aborted || !this.shouldRetry(error, attempt)) return undefined;
    const jittered = this.random() * this.delayCap(attempt + 1);
    const retryAfterMs = retryAfterOf(error);
    if (retryAfterMs === undefined) return jittered;
    return retryAfterMs > this.maxDelayMs ? undefined : Math.max(jittered, retryAfterMs);
  }
}

/**
 * Creates a retry policy (see `RetryOptions` for the defaults).
 *
 * @example
 * const retry = createRetry({ maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 2_000 });
 */
export function createRetry(options: RetryOptions = {}): Retry {
  return new Retry(options);
}

/** Waits `ms` on `clock`; rejects with the signal's reason if it aborts first. */
function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
