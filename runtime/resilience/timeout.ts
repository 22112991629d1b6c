/**
 * A time limit on work, kept by aborting: the operation gets its own `AbortSignal` that aborts with a `TimeoutError`
 * when the limit passes (or with the caller's reason when the caller's signal aborts), and the returned promise
 * rejects at that moment even if the operation ignores its signal. The same policy serves as the per-attempt limit
 * and as the overall budget of a call with retries; `scope` tells the two apart in the error.
 */

import { systemClock, type Clock } from '../clock.ts';
import { TimeoutError } from './errors.ts';
import type { Operation, Policy } from './operation.ts';

export type TimeoutOptions = {
  ms: number;
  /** `attempt` for one try, `overall` for the whole call including retries and their waits. Default `attempt`. */
  scope?: 'attempt' | 'overall';
  clock?: Clock;
};

/**
 * A timeout policy.
 *
 * @example
 * const timeout = createTimeout({ ms: 2_000, clock });
 * const response = await timeout.execute((signal) => fetch(url, { signal }));
 */
export class Timeout implements Policy {
  readonly ms: number;
  readonly scope: 'attempt' | 'overall';
  private readonly clock: Clock;

  constructor(options: TimeoutOptions) {
    if (!(options.ms > 0)) throw new RangeError(`a timeout needs a positive duration, got ${options.ms}`);
    this.ms = options.ms;
    this.scope = options.scope ?? 'attempt';
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs `operation` with a signal that aborts after `ms`; rejects with `TimeoutError` then.
   *
   * @example
   * await createTimeout({ ms: 500 }).execute((signal) => Bun.sleep(1_000).then(() => signal?.throwIfAborted()));
   * // throws TimeoutError: attempt timed out after 500 ms
   */
  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const controller = new AbortController();
    const clock = this.clock;
    return new Promise<T>((resolve, reject) => {
      const onParentAbort = (): void => controller.abort(signal!.reason);
      // Aborting dispatches synchronously, so the caller hears of the timeout before the operation reacts to it.
      const onAbort = (): void => {
        cleanUp();
        reject(controller.signal.reason);
      };
      const timer = clock.setTimeout(() => controller.abort(new TimeoutError(this.ms, this.scope)), this.ms);
      const cleanUp = (): void => {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onParentAbort);
        controller.signal.removeEventListener('abort', onAbort);
      };
      controller.signal.addEventListener('abort', onAbort, { once: true });
      signal?.addEventListener('abort', onParentAbort, { once: true });
      let result: Promise<T> | T;
      try {
        result = operation(controller.signal);
      } catch (error) {
        cleanUp();
        reject(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          cleanUp();
          resolve(value);
        },
        (error: unknown) => {
          cleanUp();
          reject(error);
        },
      );
    });
  }
}

/**
 * Creates a timeout policy.
 *
 * @example
 * const overall = createTimeout({ ms: 10_000, scope: 'overall' });
 */
export function createTimeout(options: TimeoutOptions): Timeout {
  return new Timeout(options);
}
