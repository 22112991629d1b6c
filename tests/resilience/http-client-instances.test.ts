/**
 * The HTTP client over a dependency that runs as several instances, each a real server on its own port: calls
 * spread over the live ones, each instance has its own breaker, a request that never reached an instance (refused
 * connection) goes to another whatever its method, and a non-idempotent request that did reach one is not repeated.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createHttpClient, NetworkError } from '../../runtime/resilience/index.ts';

type Server = ReturnType<typeof Bun.serve>;
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.stop(true);
});

/** A server counting the requests it got. */
function instance() {
  const seen = { count: 0 };
  const server: Server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(): Response {
      seen.count++;
      return new Response('ok');
    },
  });
  servers.push(server);
  return { origin: `http://127.0.0.1:${server.port}`, seen };
}

/** A TCP server that reads a request and closes the connection without answering (a process dying mid-request). */
function breaking() {
  const seen = { count: 0 };
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket) {
        seen.count++;
        socket.terminate();
      },
    },
  });
  closers.push(() => listener.stop(true));
  return { origin: `http://127.0.0.1:${listener.port}`, seen };
}
const closers: (() => void)[] = [];
afterAll(() => {
  for (const close of closers) close();
});

/** A port nobody listens on. */
function deadOrigin(): string {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
  const origin = `http://127.0.0.1:${s.port}`;
  s.stop(true);
  return origin;
}

const policy = { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { minimumCalls: 3, failureRateThreshold: 50 } };

describe('HttpClient with instances', () => {
  it('should spread calls evenly over the live instances and count each one’s requests', async () => {
    const a = instance();
    const b = instance();
    const http = createHttpClient({ source: 't', dependencies: { svc: { baseUrl: a.origin, instances: () => [a.origin, b.origin] } }, defaults: policy });
    for (let i = 0; i < 10; i++) expect((await http.request('svc', '/x')).status).toBe(200);
    expect([a.seen.count, b.seen.count]).toEqual([5, 5]);
    const stats = http.stats();
    expect(Object.keys(stats).sort()).toEqual(['svc', `svc@${b.origin.slice(7)}`]);
    expect(stats.svc!.requests + stats[`svc@${b.origin.slice(7)}`]!.requests).toBe(10);
    http.dispose();
  });

  it('should call baseUrl when no instance is listed', async () => {
    const a = instance();
    const http = createHttpClient({ source: 't', dependencies: { svc: { baseUrl: a.origin, instances: () => [] } }, defaults: policy });
    const before = a.seen.count;
    await http.request('svc', '/x');
    expect(a.seen.count).toBe(before + 1);
    http.dispose();
  });

  it('should send a non-idempotent request refused by one instance to another, at once and once', async () => {
    const b = instance();
    const dead = deadOrigin();
    const http = createHttpClient({ source: 't', dependencies: { svc: { baseUrl: dead, instances: () => [dead, b.origin] } }, defaults: policy });
    for (let i = 0; i < 6; i++) expect((await http.request('svc', '/orders', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(b.seen.count).toBe(6);
    // The dead instance's own breaker opened; the other's stayed closed.
    expect(http.stats().svc!.breaker.state).toBe('open');
    expect(http.stats()[`svc@${b.origin.slice(7)}`]!.breaker.state).toBe('closed');
    http.dispose();
  });

  it('should not repeat a non-idempotent request that reached an instance whose connection then broke', async () => {
    const a = breaking();
    const b = instance();
    const http = createHttpClient({ source: 't', dependencies: { svc: { baseUrl: a.origin, instances: () => [a.origin, b.origin] } }, defaults: policy });
    // Round robin starts on the first instance: the one that breaks the connection.
    const error = await http.request('svc', '/orders', { method: 'POST', body: '{}' }).catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect([a.seen.count, b.seen.count]).toEqual([1, 0]);
    http.dispose();
    // The same request with an idempotency key, on a fresh client (round robin starts on the first instance again),
    // reaches the breaking instance first, then is moved to the other.
    const again = createHttpClient({ source: 't', dependencies: { svc: { baseUrl: a.origin, instances: () => [a.origin, b.origin] } }, defaults: policy });
    const ok = await again.request('svc', '/orders', { method: 'POST', body: '{}', headers: { 'idempotency-key': 'k1' } });
    expect(ok.status).toBe(200);
    expect([a.seen.count, b.seen.count]).toEqual([2, 1]);
    again.dispose();
  });
});
