import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test';
import { seededRandom, SimulatedClock } from '../../runtime/index.ts';
import {
  CircuitOpenError,
  createHttpClient,
  NetworkError,
  parseRetryAfter,
  TimeoutError,
  UpstreamStatusError,
  type HttpPolicyOptions,
} from '../../runtime/resilience/index.ts';
import { collector, deferred, flush, track, until } from './support.ts';
import { rejectionOf } from '../helpers/rejection.ts';

// A real server on a free port: the client is tested over real HTTP, with the simulated clock driving only the
// policy's timers (retry waits, timeouts, the breaker's open wait).
const hits = new Map<string, number>();
const hung = deferred<Response>();
let server: ReturnType<typeof Bun.serve>;
let baseUrl: string;

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      const hit = (hits.get(path) ?? 0) + 1;
      hits.set(path, hit);
      switch (path) {
        case '/ok':
          return new Response('ok');
        case '/not-found':
          return new Response('no such SKU', { status: 404 });
        case '/bad-request':
          return new Response('quantity must be positive', { status: 400 });
        case '/fail':
          return new Response('database down', { status: 500 });
        case '/flaky':
          return hit <= 2 ? new Response('warming up', { status: 503 }) : new Response('recovered');
        case '/throttled':
          return hit === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '2' } }) : new Response('thanks');
        case '/hang':
          return hung.promise;
        default:
          return new Response('unknown route', { status: 404 });
      }
    },
  });
  baseUrl = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  hung.resolve(new Response('finally'));
  server.stop(true);
});

beforeEach(() => hits.clear());

function setup(policy: HttpPolicyOptions = {}) {
  const clock = new SimulatedClock(1_700_000_000_000);
  const inspection = collector();
  const client = createHttpClient({
    source: 'order',
    clock,
    random: seededRandom(11),
    inspector: inspection.inspector,
    defaults: { attemptTimeoutMs: false, timeoutMs: false },
    dependencies: {
      inventory: {
        baseUrl,
        policy: { circuitBreaker: { window: { kind: 'count', size: 10 }, minimumCalls: 5 }, ...policy },
      },
      nowhere: { baseUrl: 'http://127.0.0.1:9', policy: { retry: false } },
    },
  });
  return { clock, inspection, client };
}

/** Runs a request, advancing the clock whenever the policy waits on it, until the request settles. */
async function settle(clock: SimulatedClock, promise: Promise<Response>) {
  const call = track(promise);
  while (!call.settled()) {
    await until(() => call.settled() || clock.pending > 0);
    if (!call.settled()) clock.advance(60_000);
    await flush();
  }
  return call.result;
}

describe('HttpClient', () => {
  it('should return 2xx and 4xx responses as they are, and not count 4xx against the dependency', async () => {
    const { client } = setup();
    const ok = await client.request('inventory', '/ok');
    expect([ok.status, await ok.text()]).toEqual([200, 'ok']);
    for (let i = 0; i < 10; i++) {
      const response = await client.request('inventory', i % 2 ? '/not-found' : '/bad-request');
      expect(response.status).toBe(i % 2 ? 404 : 400);
      await response.text();
    }
    expect(hits.get('/not-found')).toBe(5); // never retried
    expect(client.stats().inventory?.breaker).toMatchObject({ state: 'closed', window: { calls: 10, failures: 0 } });
  });

  it('should count 5xx as failures, open the breaker, and then reject without calling the dependency', async () => {
    const { client, inspection } = setup({ retry: false });
    for (let i = 0; i < 5; i++) {
      const error = await client.request('inventory', '/fail').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamStatusError);
      expect(error).toMatchObject({ code: 'UPSTREAM_STATUS', status: 502, upstreamStatus: 500, message: 'inventory answered 500: database down' });
    }
    expect(hits.get('/fail')).toBe(5);
    const stats = client.stats().inventory!.breaker;
    expect(stats).toMatchObject({ name: 'inventory', state: 'open', reason: 'opened: 5 of 5 calls failed (100%) ≥ 50% within the last 10 calls' });
    expect(stats.lastTrips).toHaveLength(1);
    expect(await rejectionOf(client.request('inventory', '/ok'))).toBeInstanceOf(CircuitOpenError);
    expect(hits.get('/ok')).toBeUndefined();
    expect(inspection.of('breaker.transition')).toMatchObject([{ source: 'order', breaker: 'inventory', from: 'closed', to: 'open' }]);
    expect(inspection.of('breaker.rejected')).toMatchObject([{ source: 'order', breaker: 'inventory', state: 'open', retryAfterMs: 30_000 }]);
  });

  it('should count 429 as a failure and honour its Retry-After before retrying', async () => {
    const { clock, client, inspection } = setup({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 5_000 } });
    const call = track(client.request('inventory', '/throttled'));
    await until(() => clock.pending > 0);
    expect(inspection.of('retry.attempt')).toMatchObject([
      { policy: 'inventory', attempt: 2, delayMs: 2_000, retryAfterMs: 2_000, error: 'UpstreamStatusError: inventory answered 429: slow down' },
    ]);
    clock.advance(1_999);
    await flush();
    expect(hits.get('/throttled')).toBe(1);
    clock.advance(1);
    const { value } = await call.result;
    expect(await value?.text()).toBe('thanks');
    expect(hits.get('/throttled')).toBe(2);
    expect(client.stats().inventory?.breaker.window).toMatchObject({ calls: 2, failures: 1 });
  });

  it('should retry 5xx with backoff until the dependency recovers', async () => {
    const { clock, client, inspection } = setup({ retry: { maxAttempts: 3, baseDelayMs: 100 } });
    const { value } = await settle(clock, client.request('inventory', '/flaky'));
    expect(await value?.text()).toBe('recovered');
    expect(hits.get('/flaky')).toBe(3);
    const delays = inspection.of('retry.attempt').map((e) => e.delayMs);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThan(100);
    expect(delays[1]).toBeLessThan(200);
  });

  it('should try a POST once unless it carries an Idempotency-Key', async () => {
    const { clock, client } = setup({ retry: { maxAttempts: 3 } });
    const once = await settle(clock, client.request('inventory', '/flaky', { method: 'POST', body: '{}' }));
    expect(once.error).toMatchObject({ upstreamStatus: 503 });
    expect(hits.get('/flaky')).toBe(1);
    hits.clear();
    const keyed = await settle(clock, client.request('inventory', '/flaky', { method: 'POST', body: '{}', headers: { 'idempotency-key': 'order-1' } }));
    expect(keyed.value?.status).toBe(200);
    expect(hits.get('/flaky')).toBe(3);
  });

  it('should report an unreachable dependency as a NetworkError that counts as a failure', async () => {
    const { client } = setup();
    const error = await client.request('nowhere', '/ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', status: 502, dependency: 'nowhere' });
    expect(client.stats().nowhere?.breaker.window).toMatchObject({ calls: 1, failures: 1 });
  });

  it('should time an attempt out on the clock and abort the request', async () => {
    const { clock, client } = setup({ retry: false, attemptTimeoutMs: 2_000 });
    const call = track(client.request('inventory', '/hang'));
    await until(() => hits.get('/hang') === 1);
    clock.advance(2_000);
    const { error } = await call.result;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ scope: 'attempt', timeoutMs: 2_000 });
    expect(client.stats().inventory?.breaker.window).toMatchObject({ calls: 1, failures: 1 });
  });

  it('should expose every dependency’s breaker and bulkhead, and the breaker’s operator controls', async () => {
    const { client } = setup();
    client.breaker('inventory').forceOpen('maintenance');
    const stats = client.stats();
    expect(Object.keys(stats)).toEqual(['inventory', 'nowhere']);
    expect(stats.inventory).toMatchObject({
      baseUrl,
      breaker: { state: 'forcedOpen', reason: 'forced open by operator: maintenance' },
      bulkhead: { active: 0, queued: 0, maxConcurrent: 64 },
    });
    expect(stats.nowhere?.breaker.state).toBe('closed');
    expect(() => client.request('billing', '/x')).toThrow('unknown dependency "billing"; configured: inventory, nowhere');
    client.dispose();
  });
});

describe('parseRetryAfter', () => {
  it('should read delta-seconds and HTTP dates, and ignore nonsense', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
