/**
 * When the gateway gives an order's place in flight back, and when it keeps it: through its real routes over HTTP
 * to stand-ins (a scripted order service, the inventory stand-in). A place is given back only when no saga can be
 * running for the order — refused before the create was sent, refused by the order service (4xx), or a repeat of an
 * order whose saga has ended — and kept when one may run: a pending order answered as already there (this request's
 * own retry of a create that timed out), or a create that failed with a 5xx (it may have been applied).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { InFlightLimit } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { createDownstreamClient } from '../../services/gateway/downstreams.ts';
import { gatewayRoutes } from '../../services/gateway/routes.ts';
import { Strangler, type WeightStore } from '../../services/gateway/strangler.ts';
import { envFor, inventoryStandIn, standIn, viewStandIn } from './gateway-stand-ins.ts';

/** What the order service answers to `POST /orders`, by the order's customer name. */
const script = new Map<string, { status: number; state?: string }>();
const order = standIn(async (request) => {
  const body = (await request.json()) as { orderId: string; customer: { name: string } };
  const { status, state } = script.get(body.customer.name) ?? { status: 201, state: 'pending' };
  const answer = status < 300 ? { orderId: body.orderId, state } : { code: status === 409 ? 'IDEMPOTENCY_KEY_REUSED' : 'UNAVAILABLE', message: `scripted ${status}` };
  return Response.json(answer, { status });
});
const inventory = inventoryStandIn();
const payment = viewStandIn('payments', 'PAYMENT_NOT_FOUND', new Map());
const shipping = viewStandIn('shipments', 'SHIPMENT_NOT_FOUND', new Map());
const http = createDownstreamClient({ env: envFor({ order: order.port, inventory: inventory.port, payment: payment.port, shipping: shipping.port }) });
const limit = new InFlightLimit({ service: 'order', targetMs: 150, initial: 10, min: 1 });
const memoryStore: WeightStore = { hGetAll: async () => ({ weight: '100' }), hSet: async () => 1 };
const app = createServiceApp({ name: 'gateway', log: () => {} }).use(gatewayRoutes({ http, strangler: new Strangler({ store: memoryStore }), ordersInFlight: limit }));
afterAll(async () => {
  http.dispose();
  await Promise.all([order, inventory, payment, shipping].map((s) => s.stop()));
});

const place = (key: string, name: string, sku = 'BOX-M') =>
  app.handle(
    new Request('http://localhost/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `in-flight-${key}` },
      body: JSON.stringify({ customer: { name, email: 'x@example.com' }, lines: [{ sku, qty: 1 }], address: { name, line1: '1 Lane', city: 'London', country: 'GB' } }),
    }),
  );

describe('the gateway’s places in flight', () => {
  it('should keep a place while a saga may run, and give it back only when none can', async () => {
    expect((await place('k-new', 'new')).status).toBe(202); // created (201, pending): its saga runs
    expect(limit.size).toBe(1);
    expect((await place('k-new', 'new')).status).toBe(202); // the same order again: nothing more is counted
    expect(limit.size).toBe(1);

    script.set('pending-there', { status: 200, state: 'pending' }); // already there and pending: its saga runs
    expect((await place('k-pending', 'pending-there')).status).toBe(202);
    expect(limit.size).toBe(2);

    script.set('ended', { status: 200, state: 'confirmed' }); // already there, its saga ended
    expect((await place('k-ended', 'ended')).status).toBe(202);
    expect(limit.size).toBe(2);

    expect((await place('k-unknown', 'unknown', 'NO-SUCH-SKU')).status).toBe(422); // refused before the create
    script.set('refused', { status: 409 });
    expect((await place('k-refused', 'refused')).status).toBe(409); // the order service refused it
    expect(limit.size).toBe(2);

    script.set('failed', { status: 503 }); // may have been applied: its end, or the expiry, frees the place
    expect((await place('k-failed', 'failed')).status).toBe(503);
    expect(limit.size).toBe(3);
  });
});
