/**
 * How the gateway reaches the services: one resilient HTTP client with a dependency per service (timeouts, and
 * retries with jitter for idempotent calls), spread over the service's live instances as the registry lists them
 * (a breaker and bulkhead per instance); with no instance listed, the service's address from `portOf`/`hostOf`. A call that cannot be served — breaker open, service down, slow or failing — becomes one
 * 503 `DEPENDENCY_UNAVAILABLE` naming the service and when to retry, with a `Retry-After` header.
 */
import { BulkheadRejectedError, CircuitOpenError, createHttpClient, NetworkError, TimeoutError, UpstreamStatusError, type BreakerStore, type HttpClient, type HttpClientOptions, type HttpPolicyOptions } from '../../runtime/resilience/index.ts';
import { hostOf } from '../../runtime/config.ts';
import { type Inspector } from '../../runtime/index.ts';
import { HttpError } from '../../runtime/http/index.ts';
import { type Discovery } from '../../runtime/discovery/index.ts';
import { portOf } from '../config.ts';
import { DOWNSTREAMS, GatewayErrorCode, type Downstream } from './protocol.ts';

type Env = Record<string, string | undefined>;

/**
 * The gateway's policy toward every service. Reads are cheap and the shop front waits on them, so attempts are
 * short and a failing service is cut off quickly (5 calls in 10 s at ≥ 50 % failed) and probed again after 5 s,
 * doubling up to 30 s while it keeps failing.
 */
export const gatewayPolicy = {
  timeoutMs: 4_000,
  attemptTimeoutMs: 2_000,
  retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 500 },
  circuitBreaker: {
    window: { kind: 'time', ms: 10_000, buckets: 10 },
    minimumCalls: 5,
    failureRateThreshold: 50,
    openWait: { initialMs: 5_000, multiplier: 2, maxMs: 30_000 },
    halfOpenProbes: 2,
  },
  bulkhead: { maxConcurrent: 64, maxQueue: 256, queueTimeoutMs: 1_000 },
} satisfies HttpPolicyOptions;

/** When a failure says nothing about when to come back: a second, about a breaker's first look at it. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export type DownstreamClientOptions = {
  /** Failure injection (chaos): a rule book's `forHttpClient('gateway')`. */
  faults?: HttpClientOptions['faults'];
  env?: Env;
  policy?: HttpPolicyOptions;
  inspector?: Inspector;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Where the services' live instances are listed; without it each service is called at its fixed address. */
  discovery?: Pick<Discovery, 'origins'>;
  /** The system's service credential, sent on every call (exposed services want it). */
  serviceToken?: string;
  /** Given (`MAILROOM_SHARED_BREAKERS=1`), each instance's breaker is shared with every gateway replica's. */
  breakerStore?: BreakerStore;
};

/**
 * The client, one dependency per service: its discovered instances, else `http://hostOf():portOf(service)`.
 *
 * @example
 * const http = createDownstreamClient();
 * await http.request('inventory', '/skus');
 */
export function createDownstreamClient(options: DownstreamClientOptions = {}): HttpClient {
  const env = options.env ?? process.env;
  const discovery = options.discovery;
  const dependencies = Object.fromEntries(
    DOWNSTREAMS.map((name) => [name, { baseUrl: `http://${hostOf(env)}:${portOf(name, env)}`, instances: discovery && (() => discovery.origins(name)) }]),
  );
  const policy = options.policy ?? gatewayPolicy;
  const defaults = options.breakerStore && policy.circuitBreaker !== undefined ? { ...policy, circuitBreaker: { ...policy.circuitBreaker, shared: true } } : policy;
  return createHttpClient({ source: 'gateway', dependencies, defaults, breakerStore: options.breakerStore, inspector: options.inspector, fetch: options.fetch, faults: options.faults, bearerToken: options.serviceToken });
}

/** A service's answer that is not a failure (2xx–4xx): its status and parsed JSON body. */
export type Reply<T = any> = { status: number; body: T };

/** The 503 for a service that could not answer; carries `retryAfterMs` for the `Retry-After` header. */
export class DependencyUnavailableError extends HttpError<typeof GatewayErrorCode.dependencyUnavailable> {
  constructor(
    readonly dependency: string,
    readonly retryAfterMs: number,
    why: string,
    cause: string,
  ) {
    super(503, GatewayErrorCode.dependencyUnavailable, `${dependency} is unavailable: ${why}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      dependency,
      retryAfterMs,
      cause,
    });
  }
}

/**
 * A service refused the work at its own door (its admission control answered 429): passed on as a 429, not as an
 * outage, so the caller backs off rather than counting the service as down.
 */
export class DependencyOverloadedError extends HttpError<'OVERLOADED'> {
  constructor(
    readonly dependency: string,
    readonly retryAfterMs: number,
  ) {
    super(429, 'OVERLOADED', `${dependency} is overloaded and refused the work; nothing was done, retry in ${Math.ceil(retryAfterMs / 1000)} s`, { service: dependency, reason: 'upstream', retryAfterMs });
  }
}

/** What went wrong with a call, in words a caller can act on. */
export function unavailable(dependency: string, error: unknown): DependencyUnavailableError | DependencyOverloadedError {
  if (error instanceof CircuitOpenError) {
    const why = error.state === 'halfOpen' ? 'its circuit is half-open and probing' : `its circuit is ${error.state === 'forcedOpen' ? 'forced open' : 'open after repeated failures'}`;
    return new DependencyUnavailableError(dependency, Math.max(error.retryAfterMs, 1_000), why, 'circuit-open');
  }
  if (error instanceof BulkheadRejectedError) return new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, 'too many calls in flight to it', 'busy');
  if (error instanceof TimeoutError) return new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, `no answer within ${error.timeoutMs} ms`, 'timeout');
  if (error instanceof NetworkError) return new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, 'it could not be reached', 'unreachable');
  if (error instanceof UpstreamStatusError && error.upstreamStatus === 429) return new DependencyOverloadedError(dependency, error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
  if (error instanceof UpstreamStatusError) {
    return new DependencyUnavailableError(dependency, error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, `it answered ${error.upstreamStatus}`, 'upstream-error');
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, 'the call was abandoned', 'aborted');
  }
  return new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, error instanceof Error ? error.message : String(error), 'unknown');
}

/** Headers the gateway can set on the response it is building (Elysia's `set.headers`). */
export type ResponseHeaders = { headers: Record<string, string | number> };

/**
 * Calls for one request: each failure to reach a service is thrown as `DependencyUnavailableError` after the
 * `Retry-After` header has been set on the response being built (the service frame keeps `set.headers` when it
 * turns the error into JSON).
 *
 * @example
 * .get('/api/catalogue/:sku', async ({ params, set }) => {
 *   const { status, body } = await callerFor(http, set)('inventory', `/skus/${params.sku}`);
 * })
 */
export function callerFor(http: HttpClient, set: ResponseHeaders) {
  return async <T = any>(dependency: Downstream, path: string, init?: RequestInit): Promise<Reply<T>> => {
    try {
      return await call<T>(http, dependency, path, init);
    } catch (error) {
      if (error instanceof DependencyUnavailableError || error instanceof DependencyOverloadedError) set.headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
      throw error;
    }
  };
}

/** One call under the dependency's policy; throws `DependencyUnavailableError` when the service cannot answer. */
export async function call<T = any>(http: HttpClient, dependency: Downstream, path: string, init?: RequestInit): Promise<Reply<T>> {
  let response: Response;
  try {
    response = await http.request(dependency, path, init);
  } catch (error) {
    throw unavailable(dependency, error);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  } catch {
    throw new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_MS, `it answered ${response.status} with a body that is not JSON`, 'bad-response');
  }
}

/**
 * A service's own 4xx error passed on to our caller as it is (its code, message and details already speak to
 * the person asking).
 *
 * @example
 * if (reply.status !== 200) throw passOn('inventory', reply);
 */
export function passOn(dependency: Downstream, reply: Reply): HttpError {
  const body = (reply.body ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
  const code = typeof body.code === 'string' ? body.code : 'UPSTREAM_REJECTED';
  const message = typeof body.message === 'string' ? body.message : `${dependency} answered ${reply.status}`;
  const details = body.details !== null && typeof body.details === 'object' && !Array.isArray(body.details) ? (body.details as Record<string, unknown>) : undefined;
  return new HttpError(reply.status, code, message, details);
}

/** JSON request options. */
export function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
