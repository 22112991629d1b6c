/**
 * The gateway in-process (`app.handle`) against the real order service (its routes on a real node, served on a free
 * port) and stand-ins for inventory, payment and shipping that follow their HTTP contracts: input validation,
 * pricing and Idempotency-Key, parallel aggregation with `degraded`, and failing fast behind an open breaker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createNode, readEvents, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp, sagaRoutes } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { createDownstreamClient, gatewayPolicy } from '../../services/gateway/downstreams.ts';
import { gatewayRoutes } from '../../services/gateway/routes.ts';
import { Strangler, type WeightStore } from '../../services/gateway/strangler.ts';
import { orderActor } from '../../services/order/machine.ts';
import { orderRoutes } from '../../services/order/routes.ts';
import { FULFILLMENT_SAGA_WORDS } from '../../services/order/saga-protocol.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { envFor, inventoryStandIn, standIn, viewStandIn, type StandIn } from './gateway-stand-ins.ts';

const prefix = testPrefix('gateway');
const reservations = new Map<string, unknown>();
const payments = new Map<string, unknown>();
const shipments = new Map<string, unknown>();
// The dial at 100: every catalogue read goes to the inventory stand-in (the strangler has its own tests).
const memoryStore: WeightStore = { hGetAll: async () => ({ weight: '100' }), hSet: async () => 1 };

let node: MailroomNode;
let order: StandIn, inventory: StandIn, payment: StandIn, shipping: StandIn;
let http: HttpClient;
let app: ReturnType<typeof gatewayApp>;
const clients: HttpClient[] = [];
const standIns: StandIn[] = [];

function gatewayApp(client: HttpClient) {
  clients.push(client);
  return createServiceApp({ name: 'gateway', log: () => {} }).use(gatewayRoutes({ http: client, strangler: new Strangler({ store: memoryStore }) }));
}
const ports = () => ({ order: order.port, inventory: inventory.port, payment: payment.port, shipping: shipping.port });

beforeAll(async () => {
  node = await createNode({ service: 'order', actors: [orderActor], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  // The order service's saga routes answer too; no saga runs here (the node hosts none), so every saga is a 404.
  const orderApp = createServiceApp({ name: 'order', log: () => {} }).use(orderRoutes(node)).use(sagaRoutes(node, orderFulfillment, FULFILLMENT_SAGA_WORDS));
  order = standIn((request) => orderApp.handle(request));
  inventory = inventoryStandIn(reservations);
  payment = viewStandIn('payments', 'PAYMENT_NOT_FOUND', payments);
  shipping = viewStandIn('shipments', 'SHIPMENT_NOT_FOUND', shipments);
  standIns.push(order, inventory, payment, shipping);
  http = createDownstreamClient({ env: envFor(ports()) });
  app = gatewayApp(http);
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  await Promise.all(standIns.map((s) => s.stop()));
  await node?.stop();
  await cleanupPrefix(prefix);
});

const send = (a: typeof app, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  a.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
const placeOrder = (overrides: Record<string, unknown> = {}) => ({
  customer: { name: 'Grace Hopper', email: 'grace@example.com' },
  lines: [
    { sku: 'BOX-M', qty: 3 },
    { sku: 'TAPE-48', qty: 1 },
  ],
  address: { name: 'Grace Hopper', line1: '1 Navy Yard', city: 'Arlington', country: 'US' },
  ...overrides,
});
const body = async (res: Response) => (await res.json()) as any;

describe('gateway input validation', () => {
  it('should answer POST /api/orders with {} by 422 naming the missing field, and as curl -d sends it (a form) by 415', async () => {
    const res = await app.handle(new Request('http://localhost/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(res.status).toBe(422);
    const error = await body(res);
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toContain('body.customer is required');
    const form = await app.handle(new Request('http://localhost/api/orders', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{}' }));
    expect(form.status).toBe(415);
    expect(await body(form)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: { accepted: ['application/json'] } });
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['no lines', { lines: [] }, 'body.lines'],
    ['qty 0', { lines: [{ sku: 'BOX-M', qty: 0 }] }, 'body.lines.0.qty'],
    ['a malformed sku', { lines: [{ sku: 'box m', qty: 1 }] }, 'body.lines.0.sku'],
    ['a bad email', { customer: { name: 'G', email: 'grace-at-example' } }, 'body.customer.email'],
    ['a missing city', { address: { name: 'G', line1: '1 Navy Yard', country: 'US' } }, 'body.address.city is required'],
  ];
  for (const [what, overrides, field] of invalid) {
    it(`should reject an order with ${what}: 422 naming ${field}`, async () => {
      const res = await send(app, 'POST', '/api/orders', placeOrder(overrides));
      expect(res.status).toBe(422);
      expect((await body(res)).message).toContain(field);
    });
  }

  it('should reject a too-short Idempotency-Key with 422 naming the header', async () => {
    const res = await send(app, 'POST', '/api/orders', placeOrder(), { 'idempotency-key': 'short' });
    expect(res.status).toBe(422);
    expect((await body(res)).message).toContain('headers.idempotency-key');
  });

  it('should reject an unknown SKU with 422 UNKNOWN_SKU naming it, creating nothing', async () => {
    const before = order.hits;
    const res = await send(app, 'POST', '/api/orders', placeOrder({ lines: [{ sku: 'BOX-M', qty: 1 }, { sku: 'NOPE-1', qty: 2 }] }));
    expect(res.status).toBe(422);
    const error = await body(res);
    expect(error).toMatchObject({ code: 'UNKNOWN_SKU', details: { skus: ['NOPE-1'] } });
    expect(error.message).toContain('NOPE-1');
    expect(order.hits).toBe(before);
  });

  it('should reject bad ids, SKUs, queries and restock amounts with 422 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', `/api/orders/${'x'.repeat(70)}`, undefined, 'params.id'],
      ['GET', '/api/orders?limit=0', undefined, 'query.limit'],
      ['GET', '/api/orders?state=lost', undefined, 'query.state'],
      ['GET', '/api/catalogue/box-m', undefined, 'params.sku'],
      ['POST', '/api/catalogue/BOX-M/restock', { qty: 0 }, 'body.qty'],
      ['POST', '/api/catalogue/BOX-M/restock', {}, 'body.qty is required'],
      ['PUT', '/api/admin/strangler', { weight: 101 }, 'body.weight'],
      ['GET', '/api/sagas?status=lost', undefined, 'query.status'],
      ['GET', '/api/sagas?limit=0', undefined, 'query.limit'],
    ];
    for (const [method, path, payload, field] of cases) {
      const res = await send(app, method, path, payload);
      expect(`${method} ${path} → ${res.status}`).toBe(`${method} ${path} → 422`);
      expect((await body(res)).message).toContain(field);
    }
  });

  it('should pass a service’s own 404 on: unknown order, unknown SKU, unknown saga', async () => {
    const missing = await send(app, 'GET', '/api/orders/ord-nobody');
    expect(missing.status).toBe(404);
    expect(await body(missing)).toMatchObject({ code: 'ORDER_NOT_FOUND', message: 'no order ord-nobody' });
    const sku = await send(app, 'GET', '/api/catalogue/NOPE-1');
    expect(sku.status).toBe(404);
    expect(await body(sku)).toMatchObject({ code: 'SKU_NOT_FOUND' });
    const saga = await send(app, 'GET', '/api/sagas/ord-nobody');
    expect(saga.status).toBe(404);
    expect(await body(saga)).toMatchObject({ code: 'SAGA_NOT_FOUND', message: 'no saga for order ord-nobody' });
  });
});

describe('gateway orders', () => {
  it('should price the lines from the catalogue and accept the order (202) with a link to follow it', async () => {
    const res = await send(app, 'POST', '/api/orders', placeOrder());
    expect(res.status).toBe(202);
    const accepted = await body(res);
    expect(accepted).toEqual({ orderId: expect.stringMatching(/^ord-[0-9a-f]{32}$/), state: 'pending', links: { self: `/api/orders/${accepted.orderId}` } });
    const stored = await node.read(`order/order/${accepted.orderId}`);
    expect(stored!.context.lines).toEqual([
      { sku: 'BOX-M', qty: 3, price: 299 },
      { sku: 'TAPE-48', qty: 1, price: 399 },
    ]);
    expect(stored!.context.total).toBe(3 * 299 + 399);
  });

  it('should price a SKU from inventory once: later orders with it ask inventory nothing, an unknown SKU is asked each time', async () => {
    // A gateway of its own: its price book starts empty.
    const gw = gatewayApp(createDownstreamClient({ env: envFor(ports()) }));
    const priced = () => inventory.paths.filter((p) => ['GET /skus/BOX-M', 'GET /skus/TAPE-48', 'GET /skus/NOPE-1'].includes(p)).length;
    const before = priced();
    for (let i = 0; i < 3; i++) expect((await send(gw, 'POST', '/api/orders', placeOrder())).status).toBe(202);
    // Without the price book: 2 SKUs × 3 orders = 6 reads.
    expect(priced() - before).toBe(2);
    for (let i = 0; i < 2; i++) {
      const res = await send(gw, 'POST', '/api/orders', placeOrder({ lines: [{ sku: 'NOPE-1', qty: 1 }] }));
      expect(res.status).toBe(422);
      expect(await body(res)).toMatchObject({ code: 'UNKNOWN_SKU', details: { skus: ['NOPE-1'] } });
    }
    expect(priced() - before).toBe(4);
  });

  it('should answer 503 with Retry-After, and create nothing, when inventory answers a SKU without a valid price', async () => {
    const odd = standIn(() => Response.json({ sku: 'BOX-M', name: 'Box', price: 'free', onHand: 5, reserved: 0, shipped: 0 }));
    standIns.push(odd);
    const gw = gatewayApp(createDownstreamClient({ env: envFor({ ...ports(), inventory: odd.port }) }));
    const before = (await body(await send(app, 'GET', '/api/orders?limit=100'))).items.length;
    const res = await send(gw, 'POST', '/api/orders', placeOrder({ lines: [{ sku: 'BOX-M', qty: 1 }] }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await body(res)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: 'inventory answered SKU BOX-M without a valid price; try again later', details: { dependency: 'inventory' } });
    expect((await body(await send(app, 'GET', '/api/orders?limit=100'))).items.length).toBe(before);
  });

  it('should create one order for one Idempotency-Key, however often and concurrently it is sent', async () => {
    const key = `checkout-${crypto.randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(app, 'POST', '/api/orders', placeOrder(), { 'idempotency-key': key })));
    const ids = new Set<string>();
    for (const res of answers) {
      expect(res.status).toBe(202);
      ids.add((await body(res)).orderId);
    }
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];
    const again = await send(app, 'POST', '/api/orders', placeOrder(), { 'idempotency-key': key });
    expect((await body(again)).orderId).toBe(orderId!);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // One order created: one OrderCreated on the order service's log, whatever the number of requests.
    const created = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(created.map((e) => e.type)).toEqual(['OrderCreated']);
    const other = await send(app, 'POST', '/api/orders', placeOrder(), { 'idempotency-key': `${key}-2` });
    expect((await body(other)).orderId).not.toBe(orderId!);
  });

  it('should refuse an Idempotency-Key reused for a different order with 409', async () => {
    const key = `checkout-${crypto.randomUUID()}`;
    expect((await send(app, 'POST', '/api/orders', placeOrder(), { 'idempotency-key': key })).status).toBe(202);
    const res = await send(app, 'POST', '/api/orders', placeOrder({ lines: [{ sku: 'SCALE-5KG', qty: 1 }] }), { 'idempotency-key': key });
    expect(res.status).toBe(409);
    expect(await body(res)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('should list orders through the order service', async () => {
    const res = await send(app, 'GET', '/api/orders?limit=100&state=pending');
    expect(res.status).toBe(200);
    const page = await body(res);
    expect(page.items.length).toBeGreaterThanOrEqual(3);
    expect(page.items.every((o: any) => o.state === 'pending')).toBe(true);
  });

  it('should show an order with its reservation, payment and shipment; a part not there yet is null, not degraded', async () => {
    const { orderId } = await body(await send(app, 'POST', '/api/orders', placeOrder()));
    const fresh = await body(await send(app, 'GET', `/api/orders/${orderId}`));
    expect(fresh).toMatchObject({ orderId, order: { orderId, state: 'pending' }, reservation: null, payment: null, shipment: null, saga: null, degraded: [] });

    reservations.set(orderId, { orderId, state: 'reserved', lines: [{ sku: 'BOX-M', qty: 3 }, { sku: 'TAPE-48', qty: 1 }] });
    payments.set(orderId, { orderId, state: 'charged', amount: 1296, chargeId: 'ch_1' });
    shipments.set(orderId, { orderId, state: 'scheduled', trackingId: 'TRK-1' });
    const full = await body(await send(app, 'GET', `/api/orders/${orderId}`));
    expect(full).toEqual({
      orderId,
      order: expect.objectContaining({ orderId, total: 1296 }),
      reservation: { orderId, state: 'reserved', lines: [{ sku: 'BOX-M', qty: 3 }, { sku: 'TAPE-48', qty: 1 }] },
      payment: { orderId, state: 'charged', amount: 1296, chargeId: 'ch_1' },
      shipment: { orderId, state: 'scheduled', trackingId: 'TRK-1' },
      saga: null,
      degraded: [],
    });
  });

  it('should ask the four services in parallel: the view takes about as long as the slowest, not the sum', async () => {
    const { orderId } = await body(await send(app, 'POST', '/api/orders', placeOrder()));
    const delays = { order: 100, inventory: 200, payment: 300, shipping: 400 };
    for (const [name, ms] of Object.entries(delays)) ({ order, inventory, payment, shipping })[name as keyof typeof delays].delayMs = ms;
    try {
      const started = performance.now();
      const res = await send(app, 'GET', `/api/orders/${orderId}`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect((await body(res)).degraded).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(400);
      expect(elapsed).toBeLessThan(700); // the sum would be 1,000 ms
    } finally {
      for (const s of standIns) s.delayMs = 0;
    }
  });

  it('should leave out and name the parts whose services are failing or too slow, and still answer 200', async () => {
    const { orderId } = await body(await send(app, 'GET', '/api/orders?limit=1')).then((page) => page.items[0]);
    payments.set(orderId, { orderId, state: 'charged', amount: 1, chargeId: 'ch_2' });
    payment.mode = 'fail';
    shipping.delayMs = 2_500; // over the part budget (1.5 s)
    try {
      const started = performance.now();
      const res = await send(app, 'GET', `/api/orders/${orderId}`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      const view = await body(res);
      expect(view.degraded.sort()).toEqual(['payment', 'shipment']);
      expect('payment' in view).toBe(false);
      expect('shipment' in view).toBe(false);
      expect(view.order.orderId).toBe(orderId);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      payment.mode = 'ok';
      shipping.delayMs = 0;
    }
  }, 10_000);
  it('should treat a part whose body breaks its contract as degraded, and pass unknown fields of a good part through', async () => {
    const { orderId } = await body(await send(app, 'POST', '/api/orders', placeOrder()));
    reservations.set(orderId, { nonsense: true });
    shipments.set(orderId, { orderId, state: 'scheduled', trackingId: 'TRK-9', carrier: 'Royal Mail' });
    const view = await body(await send(app, 'GET', `/api/orders/${orderId}`));
    expect(view.degraded).toEqual(['reservation']);
    expect(view.shipment).toEqual({ orderId, state: 'scheduled', trackingId: 'TRK-9', carrier: 'Royal Mail' });
  });
});

describe('gateway breakers', () => {
  /** A gateway of its own whose breakers trip after 5 calls, over the same stand-ins. */
  const isolated = () => gatewayApp(createDownstreamClient({ env: envFor(ports()), policy: { ...gatewayPolicy, retry: false } }));

  it('should answer 503 fast with Retry-After and details.dependency once the order service’s breaker is open', async () => {
    const gw = isolated();
    order.mode = 'fail';
    try {
      for (let i = 0; i < 5; i++) expect((await send(gw, 'GET', '/api/orders/ord-any')).status).toBe(503);
      const hits = order.hits;
      const started = performance.now();
      const res = await send(gw, 'GET', '/api/orders/ord-any');
      const elapsed = performance.now() - started;
      expect(res.status).toBe(503);
      expect(elapsed).toBeLessThan(50);
      expect(order.hits).toBe(hits); // rejected without reaching the service
      const error = await body(res);
      expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
      expect(error.details).toMatchObject({ dependency: 'order', cause: 'circuit-open' });
      expect(error.details.retryAfterMs).toBeGreaterThan(4_000);
      expect(error.message).toMatch(/^order is unavailable: its circuit is open after repeated failures; retry in \d+ s$/);
      expect(Number(res.headers.get('retry-after'))).toBe(Math.ceil(error.details.retryAfterMs / 1000));
      const breakers = await body(await send(gw, 'GET', '/api/breakers'));
      expect(Object.keys(breakers).sort()).toEqual(['inventory', 'order', 'payment', 'shipping']);
      expect(breakers.order.breaker.state).toBe('open');
      expect(breakers.order.breaker.lastTrips.length).toBe(1);
      expect(breakers.payment.breaker.state).toBe('closed');
    } finally {
      order.mode = 'ok';
    }
  });

  it('should name a failing dependency in a 503 while its breaker is still closed', async () => {
    const gw = isolated();
    inventory.mode = 'fail';
    try {
      const res = await send(gw, 'GET', '/api/catalogue/BOX-M');
      expect(res.status).toBe(503);
      expect(await body(res)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'inventory', cause: 'upstream-error' } });
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      inventory.mode = 'ok';
    }
  });

  it('should leave a part out at once while its breaker is open, without calling its service', async () => {
    const gw = isolated();
    const { orderId } = await body(await send(app, 'GET', '/api/orders?limit=1')).then((page) => page.items[0]);
    payment.mode = 'fail';
    try {
      for (let i = 0; i < 5; i++) await send(gw, 'GET', `/api/orders/${orderId}`);
      const hits = payment.hits;
      const res = await send(gw, 'GET', `/api/orders/${orderId}`);
      expect(res.status).toBe(200);
      expect((await body(res)).degraded).toEqual(['payment']);
      expect(payment.hits).toBe(hits);
    } finally {
      payment.mode = 'ok';
    }
  });
});

describe('gateway catalogue', () => {
  it('should show one SKU’s live stock, and restock it passing the Idempotency-Key on', async () => {
    const sku = await body(await send(app, 'GET', '/api/catalogue/TAPE-48'));
    expect(sku).toEqual({ source: 'inventory', sku: 'TAPE-48', name: 'Packing tape, 48 mm × 66 m', price: 399, available: sku.onHand, onHand: sku.onHand, reserved: 0, shipped: 0 });
    const res = await send(app, 'POST', '/api/catalogue/TAPE-48/restock', { qty: 25 }, { 'idempotency-key': 'restock-tape-1' });
    expect(res.status).toBe(200);
    expect((await body(res)).onHand).toBe(sku.onHand + 25);
    expect(inventory.headers.at(-1)!.get('idempotency-key')).toBe('restock-tape-1');
  });

  it('should list every route in its OpenAPI document', async () => {
    const spec = await body(await send(app, 'GET', '/swagger/json'));
    const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/orders',
        'GET /api/orders',
        'GET /api/orders/{id}',
        'GET /api/sagas',
        'GET /api/sagas/{orderId}',
        'GET /api/catalogue',
        'GET /api/catalogue/{sku}',
        'POST /api/catalogue/{sku}/restock',
        'GET /api/admin/strangler',
        'PUT /api/admin/strangler',
        'GET /api/breakers',
      ]),
    );
  });
});
