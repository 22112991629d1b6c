/**
 * What the control plane does through other processes, in-process against stand-ins on free ports: the order
 * service's saga API and the gateway's strangler dial passed through as they answer, every breaker gathered from
 * payment and the gateway (a process that is down is `unreachable`, not an error), and the load generator placing
 * orders the real gateway's schema accepts, at the rate asked, counting what became of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { PlaceOrderBodySchema } from '../../services/gateway/protocol.ts';
import { cleanupPrefix, freePort, testPrefix, waitFor } from '../helpers/redis.ts';
import { controlApp } from './helpers.ts';

const prefix = testPrefix('control-upstream');
const seen: Record<'order' | 'payment' | 'gateway', { method: string; path: string; body: any }[]> = { order: [], payment: [], gateway: [] };
let gatewayMode: 'ok' | 'busy' = 'ok';
let stock = 40;

const breaker = (state: string, reason: string) => ({
  name: 'x',
  state,
  reason,
  since: 1_000,
  retryAfterMs: state === 'open' ? 4_000 : undefined,
  window: { calls: 10, failures: state === 'open' ? 8 : 0, slowCalls: 0, failureRate: state === 'open' ? 80 : 0, slowCallRate: 0, description: 'within 10 s' },
  thresholds: { minimumCalls: 5, failureRateThreshold: 50, slowCallRateThreshold: 80, slowCallDurationMs: 1000 },
  waitMs: 5_000,
  trips: state === 'open' ? 1 : 0,
  probes: { permitted: 2, admitted: 0, succeeded: 0 },
  rejected: 0,
  lastTrips: state === 'open' ? [{ from: 'closed', to: 'open', reason, at: 900 }] : [],
  transitions: [],
});

function serve(name: 'order' | 'payment' | 'gateway', handle: (req: Request, url: URL, body: any) => Response | Promise<Response>) {
  return Bun.serve({
    port: freePort(),
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      const body = text ? JSON.parse(text) : undefined;
      seen[name].push({ method: req.method, path: `${url.pathname}${url.search}`, body });
      return handle(req, url, body);
    },
  });
}

const order = serve('order', (req, url, body) => {
  if (url.pathname === '/sagas') return Response.json({ items: [{ orderId: 'o1', status: url.searchParams.get('status'), step: 'failedNeedsOperator' }], cursor: null });
  if (url.pathname === '/sagas/missing') return Response.json({ code: 'SAGA_NOT_FOUND', message: 'no saga for order missing' }, { status: 404 });
  if (url.pathname === '/sagas/o1/retry') return Response.json({ code: 'SAGA_NOT_PARKED', message: 'the saga of order o1 is completed' }, { status: 409 });
  if (url.pathname === '/sagas/o1/resolve') return Response.json({ orderId: 'o1', status: 'compensated', step: 'compensated', reason: body.note, log: [] });
  if (url.pathname === '/sagas/slow') return Response.json({ code: 'SAGA_UNAVAILABLE', message: 'try later' }, { status: 503, headers: { 'retry-after': '2' } });
  return Response.json({ orderId: 'o1', status: 'completed', step: 'completed', log: [] });
});
let payment = serve('payment', () => Response.json({ provider: { baseUrl: 'http://p', breaker: breaker('open', 'opened: 8 of 10 calls failed (80%) ≥ 50% within 10 s'), bulkhead: { active: 0 } } }));
const paymentPort = payment.port!;
const gateway = serve('gateway', (req, url, body) => {
  if (url.pathname === '/api/breakers') return Response.json(Object.fromEntries(['order', 'inventory', 'payment', 'shipping'].map((d) => [d, { baseUrl: 'http://s', breaker: breaker('closed', 'closed: created') }])));
  if (url.pathname === '/api/admin/strangler') return Response.json({ route: '/api/catalogue', weight: req.method === 'PUT' ? body.weight : 30, updatedAt: null, stale: false });
  if (url.pathname === '/api/catalogue') return Response.json({ source: 'inventory', items: [{ sku: 'BOX-M', name: 'Box', price: 299, available: 400 }, { sku: 'TAPE-48', name: 'Tape', price: 399, available: 600 }, { sku: 'SCALE-5KG', name: 'Scale', price: 2499, available: 5 }] });
  if (url.pathname.startsWith('/api/catalogue/') && url.pathname.endsWith('/restock')) {
    stock += body.qty;
    return Response.json({ sku: 'BOX-M', available: stock });
  }
  if (url.pathname.startsWith('/api/catalogue/')) return Response.json({ sku: url.pathname.split('/')[3], available: stock });
  if (url.pathname === '/api/orders' && req.method === 'POST') {
    if (!Value.Check(PlaceOrderBodySchema, body)) return Response.json({ code: 'VALIDATION', message: 'bad order' }, { status: 422 });
    if (gatewayMode === 'busy') return Response.json({ code: 'DEPENDENCY_UNAVAILABLE', message: 'inventory is unavailable' }, { status: 503 });
    return Response.json({ orderId: crypto.randomUUID(), state: 'pending', links: { self: '/x' } }, { status: 202 });
  }
  return Response.json({ code: 'NOT_FOUND', message: url.pathname }, { status: 404 });
});

let control: Awaited<ReturnType<typeof controlApp>>;
beforeAll(async () => {
  const origin = (port: number | undefined) => `http://127.0.0.1:${port}`;
  control = await controlApp({ prefix, follow: false, origins: { order: origin(order.port), payment: origin(paymentPort), gateway: origin(gateway.port) } });
});
afterAll(async () => {
  await control.ctx.load.drain();
  await control.close();
  for (const server of [order, payment, gateway]) await server.stop(true);
  await cleanupPrefix(prefix);
});

describe('sagas through the order service', () => {
  it('should pass the order service’s answers through: statuses, bodies, query and Retry-After', async () => {
    expect((await control.json('GET', '/control/sagas?status=parked&limit=5')).body).toEqual({ items: [{ orderId: 'o1', status: 'parked', step: 'failedNeedsOperator' }], cursor: null });
    expect(seen.order.at(-1)!.path).toBe('/sagas?status=parked&limit=5');
    const missing = await control.json('GET', '/control/sagas/missing');
    expect([missing.status, missing.body.code]).toEqual([404, 'SAGA_NOT_FOUND']);
    const retry = await control.json('POST', '/control/sagas/o1/retry');
    expect([retry.status, retry.body.code]).toEqual([409, 'SAGA_NOT_PARKED']);
    const resolve = await control.json('POST', '/control/sagas/o1/resolve', { body: { note: 'refunded by phone' } });
    expect([resolve.status, resolve.body.reason]).toEqual([200, 'refunded by phone']);
    expect(seen.order.at(-1)).toEqual({ method: 'POST', path: '/sagas/o1/resolve', body: { note: 'refunded by phone' } });
    const slow = await control.json('GET', '/control/sagas/slow');
    expect([slow.status, slow.headers.get('retry-after')]).toEqual([503, '2']);
  });
});

describe('GET /control/breakers', () => {
  it('should list every breaker of payment and the gateway, and a process that is down as unreachable', async () => {
    const { status, body } = await control.json('GET', '/control/breakers');
    expect(status).toBe(200);
    expect(body.map((b: any) => `${b.process}/${b.dependency} ${b.state}`)).toEqual([
      'payment/provider open',
      'gateway/order closed',
      'gateway/inventory closed',
      'gateway/payment closed',
      'gateway/shipping closed',
    ]);
    expect(body[0]).toMatchObject({
      reason: 'opened: 8 of 10 calls failed (80%) ≥ 50% within 10 s',
      since: 1_000,
      retryAfterMs: 4_000,
      window: { failureRate: 80, description: 'within 10 s' },
      thresholds: { failureRateThreshold: 50 },
      lastTrips: [{ at: 900, reason: 'opened: 8 of 10 calls failed (80%) ≥ 50% within 10 s' }],
    });
    expect(body[1].retryAfterMs).toBeNull();

    await payment.stop(true);
    const down = await control.json('GET', '/control/breakers');
    expect(down.status).toBe(200);
    expect(down.body[0]).toMatchObject({ process: 'payment', dependency: 'provider', state: 'unreachable', unreachable: true, thresholds: { failureRateThreshold: 50 } });
    expect(down.body[0].reason).toContain('payment is not answering');
    expect(down.body[0].reason).toContain('last known: open');
    expect(down.body.slice(1).every((b: any) => b.state === 'closed')).toBe(true);
    payment = serve('payment', () => Response.json({}));
  });
});

describe('strangler through the gateway', () => {
  it('should read and set the weight', async () => {
    expect((await control.json('GET', '/control/strangler')).body).toMatchObject({ route: '/api/catalogue', weight: 30 });
    const set = await control.json('PUT', '/control/strangler', { body: { weight: 75 } });
    expect([set.status, set.body.weight]).toEqual([200, 75]);
    expect(seen.gateway.at(-1)).toEqual({ method: 'PUT', path: '/api/admin/strangler', body: { weight: 75 } });
  });
});

describe('load generator', () => {
  it('should place valid orders at the rate asked for the time asked, and count them', async () => {
    const before = seen.gateway.filter((r) => r.path === '/api/orders').length;
    const started = await control.json('POST', '/control/load', { body: { ratePerSec: 40, durationS: 1 } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ running: true, ratePerSec: 40, durationS: 1, placed: 0 });
    const done = await waitFor('the run to end', async () => {
      const { body } = await control.json('GET', '/control/load');
      return !body.running && body.inFlight === 0 ? body : null;
    }, 4_000, 50);
    expect(done.placed).toBeGreaterThanOrEqual(32);
    expect(done.placed).toBeLessThanOrEqual(44);
    expect(done).toMatchObject({ accepted: done.placed, failed: 0, failures: {} });
    const orders = seen.gateway.filter((r) => r.path === '/api/orders').slice(before);
    expect(orders).toHaveLength(done.placed);
    // The nearly sold-out SKU is not ordered.
    expect(orders.flatMap((o) => o.body.lines.map((l: any) => l.sku)).every((sku: string) => sku === 'BOX-M' || sku === 'TAPE-48')).toBe(true);
  });

  it('should count failures by code, change the rate of a run, and stop on DELETE', async () => {
    gatewayMode = 'busy';
    try {
      await control.json('POST', '/control/load', { body: { ratePerSec: 20 } });
      const rerated = await control.json('POST', '/control/load', { body: { ratePerSec: 50 } });
      expect(rerated.body).toMatchObject({ running: true, ratePerSec: 50, durationS: null, endsAt: null });
      await waitFor('failures', async () => (await control.json('GET', '/control/load')).body.failed >= 5, 3_000);
      const stopped = await control.json('DELETE', '/control/load');
      expect(stopped.body.running).toBe(false);
      await control.ctx.load.drain();
      const final = (await control.json('GET', '/control/load')).body;
      expect(final.accepted).toBe(0);
      expect(final.failures).toEqual({ DEPENDENCY_UNAVAILABLE: final.failed });
      expect(final.lastError).toBe('inventory is unavailable');
      await Bun.sleep(250);
      expect((await control.json('GET', '/control/load')).body.placed).toBe(final.placed);
    } finally {
      gatewayMode = 'ok';
    }
  });
});
