/**
 * A fetch-based HTTP client for service-to-service calls, every dependency behind its own policy (timeouts, retry
 * with jittered backoff, circuit breaker, bulkhead as its connection limit). It decides what a response means for
 * resilience: network errors, timeouts, 5xx and 429 are the dependency's failures (thrown as typed errors after the
 * retries run out), any other response — 4xx included — is returned as it is and counts as a success. A
 * `Retry-After` header becomes the error's `retryAfterMs`, which the retry honours. Requests that are not idempotent
 * (POST and PATCH without an `Idempotency-Key` header, or with a streamed body) are tried once: they still go
 * through the breaker, bulkhead and timeouts.
 *
 * A dependency may run as several instances (`instances`, e.g. from a discovery client): each instance has its own
 * breaker and bulkhead, every attempt goes to the live instance with the fewest calls in flight (round robin among
 * equals, instances whose breaker is closed first), and an attempt that failed on one instance without reaching it
 * (refused connection, open breaker, full bulkhead) — or, for an idempotent request, on any connection error — is
 * tried at once on another. With one instance, or none listed, it behaves as a fixed `baseUrl` does.
 */

import { systemClock, systemRandom, type Clock, type Random } from '../clock.ts';
import type { Inspector } from '../inspection.ts';
import { failSpan, SpanKind, startSpan, traceparentOf, tracing } from '../observe/tracing.ts';
import type { BreakerStore } from './breaker-store.ts';
import { Bulkhead, type BulkheadOptions, type BulkheadStats } from './bulkhead.ts';
import { CircuitBreaker, type BreakerStats, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { BulkheadRejectedError, CircuitOpenError, NetworkError, UpstreamStatusError } from './errors.ts';
import { createPolicy, type ResiliencePolicy } from './policy.ts';
import type { RetryOptions } from './retry.ts';

type Shared = 'clock' | 'random' | 'inspector' | 'source' | 'name' | 'store';

/** The policy of one dependency; every field overrides the client's `defaults`. `false` switches a layer off. */
export type HttpPolicyOptions = {
  timeoutMs?: number | false;
  attemptTimeoutMs?: number | false;
  retry?: Omit<RetryOptions, Shared> | false;
  circuitBreaker?: Omit<CircuitBreakerOptions, Shared>;
  bulkhead?: Omit<BulkheadOptions, Shared> | false;
};

export type DependencyOptions = {
  /** Its address when no instance is listed (and, with `instances`, the instance whose breaker takes its name). */
  baseUrl: string;
  policy?: HttpPolicyOptions;
  /**
   * The origins (`http://host:port`) of its live instances, asked before every attempt; an empty list means
   * `baseUrl`. Each instance gets its own breaker and bulkhead, named `<dependency>@<host:port>` (the one at
   * `baseUrl` keeps the dependency's name).
   */
  instances?: () => readonly string[];
};

export type HttpClientOptions = {
  /** The calling service or process: the `source` of every inspection event. */
  source: string;
  dependencies: Record<string, DependencyOptions>;
  defaults?: HttpPolicyOptions;
  clock?: Clock;
  random?: Random;
  inspector?: Inspector;
  /** Where breakers configured with `shared: true` share their state (required if any is). */
  breakerStore?: BreakerStore;
  /**
   * A credential sent as `Authorization: Bearer <token>` on every request that carries no `Authorization` of its
   * own (the system's service credential, which exposed processes require of each other).
   */
  bearerToken?: string;
  /** Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Failure injection (chaos): asked before every attempt; a hit adds latency and/or fails the attempt as a network
   * error, so the breaker and retries react to it as to a real outage.
   */
  faults?: (dependency: string) => { kind: 'error' | 'latency'; latencyMs: number; reason: string } | null;
};

export type DependencyStats = {
  baseUrl: string;
  breaker: BreakerStats;
  bulkhead: BulkheadStats | undefined;
  /** The dependency this instance serves (the stats' key names the instance). */
  dependency: string;
  /** Attempts sent to this instance, and those in flight now. */
  requests: number;
  inFlight: number;
};

/** What a dependency gets unless told otherwise. */
export const defaultHttpPolicy = {
  timeoutMs: 10_000,
  attemptTimeoutMs: 3_000,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 },
  circuitBreaker: {},
  bulkhead: { maxConcurrent: 64, maxQueue: 256, queueTimeoutMs: 2_000 },
} satisfies HttpPolicyOptions;

/** One instance of a dependency: where it is, and its own breaker, bulkhead and attempt timeout. */
type Instance = {
  name: string;
  origin: string;
  breaker: CircuitBreaker;
  bulkhead: Bulkhead | undefined;
  guarded: ResiliencePolicy;
  requests: number;
  inFlight: number;
};

type Dependency = {
  name: string;
  baseUrl: string;
  instances: Map<string, Instance>;
  discover: (() => readonly string[]) | undefined;
  /** Makes an instance's layers. */
  make: (origin: string) => Instance;
  /** For idempotent requests: the overall timeout and the retry, around the instance's layers. */
  retrying: ResiliencePolicy;
  /** For the rest: the overall timeout only. */
  once: ResiliencePolicy;
  /** Turns the round robin among instances with as few calls in flight. */
  turn: number;
};

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * A resilient HTTP client.
 *
 * @example
 * const http = createHttpClient({
 *   source: 'gateway',
 *   dependencies: { inventory: { baseUrl: 'http://127.0.0.1:3002' }, payment: { baseUrl: 'http://127.0.0.1:3003' } },
 * });
 * const response = await http.request('inventory', '/stock/ABC-1');
 * http.stats().inventory?.breaker.state; // 'closed'
 */
export class HttpClient {
  private readonly dependencies = new Map<string, Dependency>();
  private readonly clock: Clock;
  private readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
  private readonly faults: HttpClientOptions['faults'];
  private readonly authorization: string | undefined;

  constructor(options: HttpClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.authorization = options.bearerToken ? `Bearer ${options.bearerToken}` : undefined;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.faults = options.faults;
    const random = options.random ?? systemRandom;
    for (const [name, dependency] of Object.entries(options.dependencies)) {
      const policy = { ...defaultHttpPolicy, ...options.defaults, ...dependency.policy };
      const shared = { source: options.source, clock: this.clock, inspector: options.inspector };
      const baseUrl = dependency.baseUrl.replace(/\/+$/, '');
      const make = (origin: string): Instance => {
        const instanceName = origin === baseUrl ? name : `${name}@${origin.replace(/^https?:\/\//, '')}`;
        const breaker = new CircuitBreaker({ ...policy.circuitBreaker, ...shared, name: instanceName, store: options.breakerStore });
        const bulkhead = policy.bulkhead === false ? undefined : new Bulkhead({ ...policy.bulkhead, ...shared, name: instanceName });
        const attemptTimeoutMs = policy.attemptTimeoutMs === false ? undefined : policy.attemptTimeoutMs;
        const guarded = createPolicy({ name: instanceName, ...shared, circuitBreaker: breaker, bulkhead, attemptTimeoutMs });
        return { name: instanceName, origin, breaker, bulkhead, guarded, requests: 0, inFlight: 0 };
      };
      const outer = { name, ...shared, random, timeoutMs: policy.timeoutMs === false ? undefined : policy.timeoutMs };
      this.dependencies.set(name, {
        name,
        baseUrl,
        instances: new Map([[baseUrl, make(baseUrl)]]),
        discover: dependency.instances,
        make,
        retrying: createPolicy({ ...outer, retry: policy.retry === false ? undefined : policy.retry }),
        once: createPolicy(outer),
        turn: 0,
      });
    }
  }

  /**
   * Sends a request to `dependency` under its policy. Resolves with any response that is not a failure (2xx–4xx
   * except 429); throws `UpstreamStatusError` (5xx, 429), `NetworkError`, `TimeoutError`, `CircuitOpenError` or
   * `BulkheadRejectedError` once the policy has done what it can.
   *
   * @example
   * const response = await http.request('payment', '/charges', {
   *   method: 'POST',
   *   headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
   *   body: JSON.stringify({ orderId, amount }),
   * });
   */
  request(dependency: string, path: string, init: RequestInit = {}): Promise<Response> {
    if (this.authorization) init = withAuthorization(init, this.authorization);
    const target = this.dependency(dependency);
    const suffix = path.startsWith('/') ? path : `/${path}`;
    const idempotent = isIdempotent(init);
    const policy = idempotent ? target.retrying : target.once;
    return policy.execute((signal) => this.onSomeInstance(target, suffix, init, idempotent, signal), init.signal ?? undefined);
  }

  /** One attempt on the best live instance, moving on to another while the failure says the request never got there. */
  private async onSomeInstance(target: Dependency, path: string, init: RequestInit, idempotent: boolean, signal: AbortSignal | undefined): Promise<Response> {
    const live = this.liveInstances(target);
    const tried = new Set<Instance>();
    for (;;) {
      const instance = this.pick(target, live, tried);
      tried.add(instance);
      instance.requests++;
      instance.inFlight++;
      try {
        return await instance.guarded.execute((inner) => this.attempt(target.name, instance.origin + path, init, inner), signal);
      } catch (error) {
        const another = live.some((i) => !tried.has(i));
        if (!another || signal?.aborted || !(notSent(error) || (idempotent && error instanceof NetworkError && !error.injected))) throw error;
      } finally {
        instance.inFlight--;
      }
    }
  }

  /** The instances listed now (their layers made on first sight, dropped once unlisted and idle), else `baseUrl`'s. */
  private liveInstances(target: Dependency): Instance[] {
    const origins = target.discover?.() ?? [];
    if (origins.length === 0) return [target.instances.get(target.baseUrl) ?? this.remember(target, target.baseUrl)];
    const listed = new Set(origins);
    for (const [origin, instance] of target.instances) {
      // The one at baseUrl stays: it answers for the dependency when no instance is listed.
      if (!listed.has(origin) && origin !== target.baseUrl && instance.inFlight === 0) {
        instance.breaker.dispose();
        target.instances.delete(origin);
      }
    }
    return origins.map((origin) => target.instances.get(origin) ?? this.remember(target, origin));
  }

  private remember(target: Dependency, origin: string): Instance {
    const instance = target.make(origin);
    target.instances.set(origin, instance);
    return instance;
  }

  /** Least in flight among the untried ones whose breaker is closed (else among any untried), round robin on ties. */
  private pick(target: Dependency, live: Instance[], tried: Set<Instance>): Instance {
    const untried = live.filter((i) => !tried.has(i));
    const closed = untried.filter((i) => i.breaker.state === 'closed' || i.breaker.state === 'disabled');
    const pool = closed.length > 0 ? closed : untried;
    const start = target.turn++ % pool.length;
    let best = pool[start]!;
    for (let k = 1; k < pool.length; k++) {
      const candidate = pool[(start + k) % pool.length]!;
      if (candidate.inFlight < best.inFlight) best = candidate;
    }
    return best;
  }

  /**
   * The breaker of a dependency, for operator controls (`forceOpen`, `disable`, `reset`) and `subscribe`.
   *
   * @example
   * http.breaker('payment').forceOpen('provider maintenance');
   */
  breaker(dependency: string): CircuitBreaker {
    const target = this.dependency(dependency);
    return (target.instances.get(target.baseUrl) ?? this.remember(target, target.baseUrl)).breaker;
  }

  /**
   * Every dependency's breaker (state, window, last trips with reasons) and bulkhead, by dependency name.
   *
   * @example
   * for (const [name, { breaker }] of Object.entries(http.stats())) console.log(name, breaker.state, breaker.reason);
   */
  stats(): Record<string, DependencyStats> {
    const stats: Record<string, DependencyStats> = {};
    for (const [dependency, target] of this.dependencies) {
      for (const { name, origin, breaker, bulkhead, requests, inFlight } of target.instances.values()) {
        stats[name] = { baseUrl: origin, breaker: breaker.stats(), bulkhead: bulkhead?.stats(), dependency, requests, inFlight };
      }
    }
    return stats;
  }

  /** Stops every breaker's machine and timer. */
  dispose(): void {
    for (const target of this.dependencies.values()) for (const { breaker } of target.instances.values()) breaker.dispose();
  }

  private dependency(name: string): Dependency {
    const dependency = this.dependencies.get(name);
    if (dependency === undefined) {
      throw new Error(`unknown dependency "${name}"; configured: ${[...this.dependencies.keys()].join(', ') || 'none'}`);
    }
    return dependency;
  }

  /** One try; with tracing on, inside a client span whose `traceparent` the request carries. */
  private attempt(dependency: string, url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    if (!tracing.on) return this.attemptUntraced(dependency, url, init, signal);
    const method = (init.method ?? 'GET').toUpperCase();
    const span = startSpan(`${method} ${dependency}`, undefined, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.full': url, 'mailroom.dependency': dependency } });
    const headers = new Headers(init.headers);
    headers.set('traceparent', traceparentOf(span)!);
    return this.attemptUntraced(dependency, url, { ...init, headers }, signal).then(
      (response) => {
        span.setAttribute('http.response.status_code', response.status);
        span.end();
        return response;
      },
      (error: unknown) => {
        failSpan(span, error);
        throw error;
      },
    );
  }

  private async attemptUntraced(dependency: string, url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    const fault = this.faults?.(dependency);
    if (fault) {
      if (fault.latencyMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, fault.latencyMs));
      if (signal?.aborted) throw signal.reason;
      if (fault.kind === 'error') throw Object.assign(new NetworkError(dependency, new Error(fault.reason)), { injected: true });
    }
    let response: Response;
    try {
      response = await this.fetch(url, { ...init, signal });
    } catch (error) {
      // A timeout or our caller aborted: let that reason speak, not the fetch's generic AbortError.
      if (signal?.aborted) throw signal.reason;
      throw new NetworkError(dependency, error);
    }
    if (response.status < 500 && response.status !== 429) return response;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.clock.now());
    // Read the body so the connection can be reused, and keep its start for the error message.
    const body = await response.text().catch(() => '');
    throw new UpstreamStatusError(dependency, response.status, { retryAfterMs, body });
  }
}

/**
 * Creates a resilient HTTP client (see `HttpClientOptions` and `defaultHttpPolicy`).
 *
 * @example
 * const http = createHttpClient({ source: 'payment', dependencies: { provider: { baseUrl: env.PROVIDER_URL } } });
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new HttpClient(options);
}

/**
 * A `Retry-After` header in milliseconds from `now`: delta-seconds or an HTTP date; `undefined` if absent or invalid.
 *
 * @example
 * parseRetryAfter('2', clock.now()); // 2000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The request never reached the instance: its connection was refused, or our own breaker or bulkhead held it back. */
function notSent(error: unknown): boolean {
  if (error instanceof CircuitOpenError || error instanceof BulkheadRejectedError) return true;
  if (!(error instanceof NetworkError) || error.injected) return false;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ConnectionRefused';
}

/** `init` with an `Authorization` header, unless it carries one already. */
function withAuthorization(init: RequestInit, authorization: string): RequestInit {
  const headers = new Headers(init.headers);
  if (headers.has('authorization')) return init;
  headers.set('authorization', authorization);
  return { ...init, headers };
}

function isIdempotent(init: RequestInit): boolean {
  if (init.body instanceof ReadableStream) return false;
  if (IDEMPOTENT.has((init.method ?? 'GET').toUpperCase())) return true;
  return new Headers(init.headers).has('idempotency-key');
}
