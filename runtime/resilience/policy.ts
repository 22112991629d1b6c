/**
 * One policy out of the kit's parts, always nested in this order (outermost first):
 *
 *     fallback ∘ overall timeout ∘ retry ∘ circuit breaker ∘ bulkhead ∘ attempt timeout ∘ operation
 *
 * - **fallback** outermost, so it can answer for every failure inside, the overall timeout included.
 * - **overall timeout** around retry, so the budget covers every attempt and every backoff wait; when it aborts, the
 *   attempt in flight and the pending wait are cancelled through the signal.
 * - **retry** outside the breaker, so each attempt asks the breaker again: an open breaker answers at once with a
 *   `CircuitOpenError` whose `retryAfterMs` the retry honours (or gives up on, when longer than `maxDelayMs`), and the
 *   breaker sees every attempt's outcome rather than one per logical call.
 * - **circuit breaker** outside the bulkhead, so an open breaker fails fast without taking a slot or queueing behind
 *   calls hung on a dead dependency. A bulkhead rejection passes through the breaker as `ignored` (the dependency
 *   never saw the call); time spent queueing does count toward slow calls — that caller was waiting on this dependency.
 * - **bulkhead** outside the attempt timeout, so the timeout measures the dependency's work, not the queue (which has
 *   its own `queueTimeoutMs`), and a timed-out attempt frees its slot the moment it times out.
 * - **attempt timeout** innermost, so its `TimeoutError` counts as a breaker failure and is retried.
 *
 * This is Polly v8's recommended order with the bulkhead as its concurrency limiter, and Resilience4j's decorator
 * order (Retry ∘ CircuitBreaker ∘ TimeLimiter ∘ Bulkhead) except that the time limit sits inside the bulkhead.
 */

import type { Clock, Random } from '../clock.ts';
import type { Inspector } from '../inspection.ts';
import { Bulkhead, type BulkheadOptions } from './bulkhead.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { Fallback, type FallbackOptions } from './fallback.ts';
import type { Operation, Policy } from './operation.ts';
import { Retry, type RetryOptions } from './retry.ts';
import { Timeout } from './timeout.ts';

/** The layers of a policy, outermost first. */
export const policyOrder = ['fallback', 'timeout', 'retry', 'circuitBreaker', 'bulkhead', 'attemptTimeout'] as const;
export type PolicyLayer = (typeof policyOrder)[number];

type Shared = 'clock' | 'random' | 'inspector' | 'source';

export type PolicyOptions<R = never> = {
  /** Names the policy; its breaker, bulkhead and retry take this name unless given their own. */
  name: string;
  /** The process or service using the policy, the `source` of its inspection events. */
  source?: string;
  clock?: Clock;
  random?: Random;
  inspector?: Inspector;
  fallback?: FallbackOptions<R> | Fallback<R>;
  /** The overall budget of a call, retries and waits included. */
  timeoutMs?: number;
  retry?: Omit<RetryOptions, Shared> | Retry;
  /** Options, or an existing breaker to share with other policies (for example one per dependency). */
  circuitBreaker?: (Omit<CircuitBreakerOptions, Shared | 'name'> & { name?: string }) | CircuitBreaker;
  bulkhead?: (Omit<BulkheadOptions, Shared | 'name'> & { name?: string }) | Bulkhead;
  /** The limit of each attempt. */
  attemptTimeoutMs?: number;
};

/**
 * A composed policy. The layers that were configured are reachable for stats and operator controls.
 *
 * @example
 * const policy = createPolicy({ name: 'inventory', timeoutMs: 5_000, retry: { maxAttempts: 3 }, circuitBreaker: {} });
 * await policy.execute((signal) => fetch(url, { signal }));
 * policy.circuitBreaker?.stats().state;
 */
export class ResiliencePolicy<R = never> implements Policy<R> {
  readonly name: string;
  /** The configured layers, outermost first. */
  readonly layers: readonly PolicyLayer[];
  readonly fallback: Fallback<R> | undefined;
  readonly timeout: Timeout | undefined;
  readonly retry: Retry | undefined;
  readonly circuitBreaker: CircuitBreaker | undefined;
  readonly bulkhead: Bulkhead | undefined;
  readonly attemptTimeout: Timeout | undefined;
  private readonly composed: Policy<R>;
  private readonly ownsBreaker: boolean;

  constructor(options: PolicyOptions<R>) {
    const { name, clock, random, inspector } = options;
    const source = options.source ?? name;
    this.name = name;
    this.fallback = options.fallback === undefined || options.fallback instanceof Fallback ? options.fallback : new Fallback(options.fallback);
    this.timeout = options.timeoutMs === undefined ? undefined : new Timeout({ ms: options.timeoutMs, scope: 'overall', clock });
    this.retry =
      options.retry === undefined || options.retry instanceof Retry
        ? options.retry
        : new Retry({ name, ...options.retry, source, clock, random, inspector });
    this.ownsBreaker = options.circuitBreaker !== undefined && !(options.circuitBreaker instanceof CircuitBreaker);
    this.circuitBreaker =
      options.circuitBreaker === undefined || options.circuitBreaker instanceof CircuitBreaker
        ? options.circuitBreaker
        : new CircuitBreaker({ name, ...options.circuitBreaker, source, clock, inspector });
    this.bulkhead =
      options.bulkhead === undefined || options.bulkhead instanceof Bulkhead
        ? options.bulkhead
        : new Bulkhead({ name, ...options.bulkhead, source, clock, inspector });
    this.attemptTimeout =
      options.attemptTimeoutMs === undefined ? undefined : new Timeout({ ms: options.attemptTimeoutMs, scope: 'attempt', clock });

    const present = policyOrder.filter((layer) => this[layer] !== undefined);
    this.layers = present;
    this.composed = wrap<R>(...present.map((layer) => this[layer]!));
  }

  /**
   * Runs `operation` through every configured layer, in the documented order.
   *
   * @example
   * const order = await policy.execute((signal) => orders.get(id, { signal }), request.signal);
   */
  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T | R> {
    return this.composed.execute(operation, signal);
  }

  /** Stops the breaker's machine and timer if this policy created the breaker (a shared one is its owner's to stop). */
  dispose(): void {
    if (this.ownsBreaker) this.circuitBreaker?.dispose();
  }
}

/**
 * Creates a policy from the parts you configure; absent parts are skipped, the order stays the documented one.
 *
 * @example
 * const policy = createPolicy({
 *   name: 'payment-provider',
 *   source: 'payment',
 *   fallback: { fallback: () => ({ status: 'pending' as const }) },
 *   timeoutMs: 10_000,
 *   retry: { maxAttempts: 3, baseDelayMs: 200 },
 *   circuitBreaker: { failureRateThreshold: 50, openWait: 30_000 },
 *   bulkhead: { maxConcurrent: 10, maxQueue: 20, queueTimeoutMs: 1_000 },
 *   attemptTimeoutMs: 2_000,
 * });
 */
export function createPolicy<R = never>(options: PolicyOptions<R>): ResiliencePolicy<R> {
  return new ResiliencePolicy(options);
}

/**
 * Nests policies, the first outermost, for an order of your own (`createPolicy` keeps the documented one).
 *
 * @example
 * const guarded = wrap(createRetry(), createTimeout({ ms: 500 }));
 * await guarded.execute((signal) => ping(signal));
 */
export function wrap<R = never>(...policies: Policy<R>[]): Policy<R> {
  const run = <T>(index: number, operation: Operation<T>, signal: AbortSignal | undefined): Promise<T | R> => {
    const policy = policies[index];
    if (policy === undefined) return Promise.resolve(operation(signal));
    return policy.execute((inner) => run(index + 1, operation, inner), signal) as Promise<T | R>;
  };
  return { execute: (operation, signal) => run(0, operation, signal) };
}
