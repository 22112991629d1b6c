/**
 * A fallback: when the protected work fails, answer with something else — a cached value, a default, a partial
 * result — instead of the error. It sits outermost in a policy, so it also covers timeouts, open breakers and
 * rejections by the bulkhead.
 */

import type { Operation, Policy } from './operation.ts';

export type FallbackOptions<R> = {
  /** The answer instead of `error`. It may throw to pass on (another) error. */
  fallback: (error: unknown, signal?: AbortSignal) => R | Promise<R>;
  /** Which errors the fallback answers. Default: every error, unless our own caller aborted. */
  handles?: (error: unknown) => boolean;
};

/**
 * A fallback policy.
 *
 * @example
 * const stockOrUnknown = createFallback({ fallback: () => ({ sku, available: null }) });
 * const stock = await stockOrUnknown.execute((signal) => inventory.stock(sku, { signal }));
 */
export class Fallback<R> implements Policy<R> {
  private readonly fallback: (error: unknown, signal?: AbortSignal) => R | Promise<R>;
  private readonly handles: (error: unknown) => boolean;

  constructor(options: FallbackOptions<R>) {
    this.fallback = options.fallback;
    this.handles = options.handles ?? (() => true);
  }

  /**
   * Runs `operation`; on an error it handles, returns the fallback's answer instead.
   *
   * @example
   * const body = await fallback.execute(() => fetchRecommendations(user));
   */
  async execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T | R> {
    try {
      return await operation(signal);
    } catch (error) {
      // A caller that gave up is not waiting for an answer, so do not run the fallback's work for it.
      if (signal?.aborted || !this.handles(error)) throw error;
      return this.fallback(error, signal);
    }
  }
}

/**
 * Creates a fallback policy.
 *
 * @example
 * const partial = createFallback({ fallback: (error) => ({ items: [], degraded: String(error) }) });
 */
export function createFallback<R>(options: FallbackOptions<R>): Fallback<R> {
  return new Fallback(options);
}
