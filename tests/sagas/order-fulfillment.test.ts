/**
 * The order-fulfillment saga over real processes (order, inventory, payment, shipping, the provider and the gateway
 * on free ports, a test key prefix): an order placed through the gateway is fulfilled, and a failure injected at each
 * step in turn — short stock, a declined card, an unserved country, an order cancelled before its confirmation, a
 * shipping process that stops answering, a provider too slow or failing every call — unwinds exactly the steps that
 * had taken (or may have taken) effect, in reverse. Each outcome is read from the saga's log, from every participant's own state, from the
 * provider's ledger and the stock, and the saga's log agrees with its `SagaStep` events on the order event log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createNode, readEvents, type MailroomNode } from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { startShop, type Shop, type ShopProcess } from '../helpers/shop.ts';

/** Short enough to time out within a test: 3 attempts × 700 ms + 2 × 200 ms backoff ≈ 2.5 s. */
const SHIPPING_TIMEOUT_MS = 700;

const prefix = testPrefix('saga-fulfillment');
let shop: Shop;
/** A client of the order service's actors (sends, reads), for what an operator does by hand. */
let orders: MailroomNode;

beforeAll(async () => {
  shop = await startShop(prefix, { MAILROOM_SAGA_SHIPPING_TIMEOUT_MS: String(SHIPPING_TIMEOUT_MS) });
  orders = await createNode({ service: 'order', actors: [], consume: false, keyPrefix: prefix, redis: SHARED_REDIS });
}, 30_000);
afterAll(async () => {
  await orders?.stop();
  await shop?.close();
  await cleanupPrefix(prefix);
});

const customer = { name: 'Ada Lovelace', email: 'ada@example.com' };
const london = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' };
const tokyo = { name: 'Ada Lovelace', line1: '1-1 Chiyoda', city: 'Tokyo', country: 'JP' };
type Line = { sku: string; qty: number };

const getJson = async (name: ShopProcess, path: string) => {
  const res = await fetch(shop.url(name, path));
  return { status: res.status, body: (await res.json()) as any };
};
const sendJson = async (name: ShopProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(shop.url(name, path), { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as any, retryAfter: res.headers.get('retry-after') };
};

let seq = 0;
/**
 * Places an order through the gateway; returns its id. A 429 is retried with the same idempotency key after the
 * Retry-After it names, as a client does: a test that stopped a process leaves a backlog the gateway's admission
 * control sees for a moment after the saga settled (it refused the next test's first order once in CI).
 */
async function place(lines: Line[], address = london): Promise<string> {
  const key = `${prefix}-${seq++}`;
  for (let tries = 1; ; tries++) {
    const { status, body, retryAfter } = await sendJson('gateway', 'POST', '/api/orders', { customer, lines, address }, { 'idempotency-key': key });
    if (status === 429 && tries < 10) {
      expect(Number(retryAfter)).toBeGreaterThan(0);
      await Bun.sleep(Math.min(2_000, Number(retryAfter) * 1_000));
      continue;
    }
    expect({ status, body }).toMatchObject({ status: 202 });
    return body.orderId;
  }
}

/** The gateway's order view once its saga has ended (completed, compensated or parked). */
async function settled(orderId: string, timeoutMs = 10_000) {
  return waitFor(
    `the saga of ${orderId} to end`,
    async () => {
      const view = await getJson('gateway', `/api/orders/${orderId}`);
      return ['completed', 'compensated', 'parked'].includes(view.body.saga?.status) ? view.body : null;
    },
    timeoutMs,
    20,
  );
}

const phases = (log: { step: string; phase: string }[]) => log.map((l) => `${l.step}:${l.phase}`);
/** The log from the failure on: what the saga undid, and in which order. */
const unwinding = (log: { step: string; phase: string }[], from: string) => {
  const all = phases(log);
  return all.slice(all.indexOf(from));
};
const ledgerOf = async (orderId: string) => (await getJson('provider', `/ledger?orderId=${orderId}`)).body;
const skuOf = async (sku: string) => (await getJson('inventory', `/skus/${sku}`)).body as { onHand: number; reserved: number; shipped: number };
/**
 * A SKU once it is back to `before`, or as it is after 5 s: a released reservation tells its SKUs in a later turn,
 * which may come after the saga has ended.
 */
const stockOf = (sku: string, before: object) =>
  waitFor(`${sku} to be back to ${JSON.stringify(before)}`, async () => {
    const now = await skuOf(sku);
    return JSON.stringify(now) === JSON.stringify(before) ? now : null;
  }, 5_000).catch(() => skuOf(sku));

/** The saga's own log and its `SagaStep` events on the order service's event log must tell the same story. */
async function expectLogOnEventLog(orderId: string, log: { at: number; step: string; phase: string; attempt?: number; durationMs?: number; reason?: string }[]) {
  const events = await readEvents({ service: 'order', aggregate: `order/fulfillment/${orderId}`, from: String(log[0]!.at), keyPrefix: prefix, redis: SHARED_REDIS });
  const steps = events.filter((e) => e.type === 'SagaStep');
  const entry = (e: Record<string, unknown>) => ({ step: e.step, phase: e.phase, attempt: e.attempt, durationMs: e.durationMs, reason: e.reason });
  expect(steps.map(entry)).toEqual(log.map(entry));
  expect(steps.every((e) => e.sagaId === orderId && e.saga === 'fulfillment')).toBe(true);
  // The runtime stamps a published event's `at` itself when it collects the turn's events, a moment after the log's.
  steps.forEach((e, i) => expect(e.at - log[i]!.at).toBeWithin(0, 1_000));
}

describe('order fulfillment saga over real processes', () => {
  it('should fulfil an order placed through the gateway: confirmed, stock committed, charged once, shipped', async () => {
    const [boxBefore, tapeBefore] = await Promise.all([skuOf('BOX-M'), skuOf('TAPE-48')]);
    const orderId = await place([
      { sku: 'BOX-M', qty: 2 },
      { sku: 'TAPE-48', qty: 1 },
    ]);
    const view = await settled(orderId);
    const total = 2 * 299 + 399;
    expect(view).toMatchObject({
      order: { state: 'confirmed', total },
      payment: { state: 'charged', amount: total },
      shipment: { state: 'scheduled', trackingId: expect.any(String) },
      saga: { orderId, status: 'completed', step: 'completed' },
      degraded: [],
    });
    expect(view.saga.reason).toBeUndefined();
    expect(phases(view.saga.log)).toEqual([
      'createOrder:started', 'createOrder:succeeded',
      'reserveInventory:started', 'reserveInventory:succeeded',
      'chargePayment:started', 'chargePayment:succeeded',
      'scheduleShipment:started', 'scheduleShipment:succeeded',
      'confirmOrder:started', 'confirmOrder:succeeded',
      'commitInventory:started', 'commitInventory:succeeded',
      'saga:completed',
    ]);
    expect(view.saga.data).toMatchObject({ orderId, total, chargeId: view.payment.chargeId, trackingId: view.shipment.trackingId });
    // The saga completed once the reservation acknowledged the commit; each SKU then counts its units shipped.
    expect((await getJson('inventory', `/reservations/${orderId}`)).body.state).toBe('committed');
    const [box, tape] = await waitFor('both SKUs to ship', async () => {
      const skus = await Promise.all([skuOf('BOX-M'), skuOf('TAPE-48')]);
      return skus[0].shipped > boxBefore.shipped && skus[1].shipped > tapeBefore.shipped ? skus : null;
    });
    expect([box.onHand, box.reserved, box.shipped]).toEqual([boxBefore.onHand - 2, boxBefore.reserved, boxBefore.shipped + 2]);
    expect([tape.onHand, tape.reserved, tape.shipped]).toEqual([tapeBefore.onHand - 1, tapeBefore.reserved, tapeBefore.shipped + 1]);
    const ledger = await ledgerOf(orderId);
    expect(ledger.charges).toHaveLength(1);
    expect(ledger.totals).toMatchObject({ charged: total, refunded: 0, net: total, charges: 1, refunds: 0 });

    // The same saga through the operator API, directly and through the gateway, and on the event log.
    const direct = await getJson('order', `/sagas/${orderId}`);
    expect(direct.body).toEqual(view.saga);
    expect((await getJson('gateway', `/api/sagas/${orderId}`)).body).toEqual(view.saga);
    const completed = await getJson('gateway', '/api/sagas?status=completed&limit=100');
    expect(completed.body.items.map((s: any) => s.orderId)).toContain(orderId);
    expect((await getJson('gateway', '/api/sagas?status=running&limit=100')).body.items.map((s: any) => s.orderId)).not.toContain(orderId);
    await expectLogOnEventLog(orderId, view.saga.log);
  }, 15_000);

  it('should cancel the order with the reason and undo nothing else when the stock is short', async () => {
    const before = await skuOf('SCALE-5KG');
    const orderId = await place([{ sku: 'SCALE-5KG', qty: before.onHand + 1 }]);
    const view = await settled(orderId);
    const reason = `not enough stock of SKU SCALE-5KG: ${before.onHand + 1} requested, ${before.onHand} available`;
    expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'reserveInventory', reason });
    expect(unwinding(view.saga.log, 'reserveInventory:failed')).toEqual([
      'reserveInventory:failed',
      'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
      'saga:compensated',
    ]);
    expect(view.order).toMatchObject({ state: 'cancelled', reason });
    expect(view.reservation).toMatchObject({ state: 'rejected', reason });
    // Later steps never started: no payment, no shipment, nothing at the provider, the stock untouched.
    expect(view.payment).toBeNull();
    expect(view.shipment).toBeNull();
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charges: 0, refunds: 0, net: 0 });
    expect(await stockOf('SCALE-5KG', before)).toEqual(before);
    await expectLogOnEventLog(orderId, view.saga.log);
  }, 15_000);

  it('should release the stock and cancel the order when the card is declined (an amount over the decline limit)', async () => {
    // 800 × 12.99 = 10,392.00: over the provider's 10,000.00 limit. Restock first so the stock is there.
    expect((await sendJson('gateway', 'POST', '/api/catalogue/ENV-C5-100/restock', { qty: 1_000 })).status).toBe(200);
    const before = await skuOf('ENV-C5-100');
    const orderId = await place([{ sku: 'ENV-C5-100', qty: 800 }]);
    const view = await settled(orderId);
    expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'chargePayment' });
    expect(view.saga.reason).toContain('declined');
    expect(unwinding(view.saga.log, 'chargePayment:failed')).toEqual([
      'chargePayment:failed',
      'undoReserveInventory:compensating', 'undoReserveInventory:compensated',
      'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
      'saga:compensated',
    ]);
    expect(view.order).toMatchObject({ state: 'cancelled', reason: view.saga.reason });
    expect(view.payment).toMatchObject({ state: 'declined' });
    expect(view.reservation).toMatchObject({ state: 'released' });
    expect(view.shipment).toBeNull();
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charges: 0, refunds: 0, net: 0 });
    expect(await stockOf('ENV-C5-100', before)).toEqual(before);
  }, 15_000);

  it('should refund, release and cancel when no carrier serves the country (JP)', async () => {
    const before = await skuOf('BOX-S');
    const orderId = await place([{ sku: 'BOX-S', qty: 3 }], tokyo);
    const view = await settled(orderId);
    expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'scheduleShipment', reason: 'no carrier serves country JP' });
    expect(unwinding(view.saga.log, 'scheduleShipment:failed')).toEqual([
      'scheduleShipment:failed',
      'undoChargePayment:compensating', 'undoChargePayment:compensated',
      'undoReserveInventory:compensating', 'undoReserveInventory:compensated',
      'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
      'saga:compensated',
    ]);
    expect(view.order).toMatchObject({ state: 'cancelled', reason: 'no carrier serves country JP' });
    expect(view.shipment).toMatchObject({ state: 'rejected' });
    expect(view.payment).toMatchObject({ state: 'refunded', amount: 3 * 199, refunded: 3 * 199 });
    expect(view.reservation).toMatchObject({ state: 'released' });
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charged: 3 * 199, refunded: 3 * 199, net: 0, charges: 1, refunds: 1 });
    expect(await stockOf('BOX-S', before)).toEqual(before);
    await expectLogOnEventLog(orderId, view.saga.log);
  }, 15_000);

  it('should undo the shipment, the charge and the stock when the order was cancelled by hand before its confirmation', async () => {
    const before = await skuOf('BOX-L');
    // Shipping paused: the saga waits at scheduleShipment (within its timeout) while an operator cancels the order.
    await shop.signal('shipping', 'SIGSTOP');
    let orderId = '';
    try {
      orderId = await place([{ sku: 'BOX-L', qty: 1 }]);
      await orders.waitFor(`order/fulfillment/${orderId}`, (v) => v.state.startsWith('scheduleShipment'), { timeoutMs: 3_000 });
      await orders.send(`order/order/${orderId}`, { type: 'cancel', orderId, reason: 'customer phoned to cancel' });
      await orders.waitFor(`order/order/${orderId}`, (v) => v.state === 'cancelled', { timeoutMs: 3_000 });
    } finally {
      await shop.signal('shipping', 'SIGCONT');
    }
    const view = await settled(orderId);
    expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'confirmOrder', reason: 'customer phoned to cancel' });
    expect(phases(view.saga.log)).toContain('scheduleShipment:succeeded');
    expect(unwinding(view.saga.log, 'confirmOrder:failed')).toEqual([
      'confirmOrder:failed',
      'undoScheduleShipment:compensating', 'undoScheduleShipment:compensated',
      'undoChargePayment:compensating', 'undoChargePayment:compensated',
      'undoReserveInventory:compensating', 'undoReserveInventory:compensated',
      'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
      'saga:compensated',
    ]);
    expect(view.order).toMatchObject({ state: 'cancelled', reason: 'customer phoned to cancel' });
    expect(view.shipment).toMatchObject({ state: 'cancelled' });
    expect(view.payment).toMatchObject({ state: 'refunded', refunded: 449 });
    expect(view.reservation).toMatchObject({ state: 'released' });
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charged: 449, refunded: 449, net: 0 });
    expect(await stockOf('BOX-L', before)).toEqual(before);
  }, 15_000);

  it('should compensate a step that timed out, its own compensation first, once the stopped process answers again', async () => {
    const before = await skuOf('MARKER-BLK');
    await shop.signal('shipping', 'SIGSTOP');
    let orderId = '';
    try {
      orderId = await place([{ sku: 'MARKER-BLK', qty: 4 }]);
      // 3 attempts of 700 ms: the step times out; its compensation (cancel the shipment) is sent to a stopped process.
      await orders.waitFor(`order/fulfillment/${orderId}`, (v) => v.state.startsWith('undoScheduleShipment'), { timeoutMs: 6_000 });
    } finally {
      await shop.signal('shipping', 'SIGCONT');
    }
    const view = await settled(orderId, 15_000);
    expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'scheduleShipment', reason: `scheduleShipment timed out after 3 × ${SHIPPING_TIMEOUT_MS} ms` });
    expect(phases(view.saga.log).filter((p) => p === 'scheduleShipment:retrying')).toHaveLength(2);
    // The step may have taken effect (it did, once shipping woke up), so its own compensation runs first.
    expect(unwinding(view.saga.log, 'scheduleShipment:timedOut')).toEqual([
      'scheduleShipment:timedOut',
      'undoScheduleShipment:compensating', 'undoScheduleShipment:compensated',
      'undoChargePayment:compensating', 'undoChargePayment:compensated',
      'undoReserveInventory:compensating', 'undoReserveInventory:compensated',
      'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
      'saga:compensated',
    ]);
    expect(view.shipment).toMatchObject({ state: 'cancelled' });
    expect(view.payment).toMatchObject({ state: 'refunded' });
    expect(view.order).toMatchObject({ state: 'cancelled' });
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charged: 4 * 149, refunded: 4 * 149, net: 0 });
    expect(await stockOf('MARKER-BLK', before)).toEqual(before);
  }, 25_000);

  /** The unwinding after `from`, retries of a compensation left out (how many there are depends on the breaker). */
  const unwound = (log: { step: string; phase: string }[], from: string) => unwinding(log, from).filter((p) => !/^undo.*:retrying$/.test(p));
  const unwoundCharge = [
    'chargePayment:failed',
    'undoChargePayment:compensating', 'undoChargePayment:compensated', // whether it charged is unknown: undone too
    'undoReserveInventory:compensating', 'undoReserveInventory:compensated',
    'undoCreateOrder:compensating', 'undoCreateOrder:compensated',
    'saga:compensated',
  ];

  // One test for both provider outages, as the first opens the payment service's breaker (10 s) and the second can
  // wait out the same open period; the compensations go through once the breaker lets calls through again.
  it('should net the money to zero when the provider is too slow (a charge lands unseen) or fails every call', async () => {
    // Every card call takes 2 s, over the payment service's 1.5 s per attempt: the charge lands, unseen.
    expect((await sendJson('provider', 'PUT', '/faults', { errorRate: 0, latencyMs: { min: 2_000, max: 2_000 }, durationMs: 60_000 })).status).toBe(200);
    let slowId = '';
    let failingId = '';
    try {
      slowId = await place([{ sku: 'BUBBLE-10M', qty: 1 }]);
      await orders.waitFor(`order/fulfillment/${slowId}`, (v) => v.state.startsWith('undoChargePayment'), { timeoutMs: 15_000 });
      // Now the provider fails every call, before its ledger: nothing can land.
      expect((await sendJson('provider', 'PUT', '/faults', { errorRate: 1, durationMs: 60_000 })).status).toBe(200);
      failingId = await place([{ sku: 'LABEL-A4-100', qty: 1 }]);
      await orders.waitFor(`order/fulfillment/${failingId}`, (v) => v.state.startsWith('undoChargePayment'), { timeoutMs: 10_000 });
    } finally {
      await sendJson('provider', 'DELETE', '/faults');
    }
    const [slow, failing] = await Promise.all([settled(slowId, 30_000), settled(failingId, 30_000)]);
    for (const view of [slow, failing]) {
      expect(view.saga).toMatchObject({ status: 'compensated', failedStep: 'chargePayment' });
      expect(view.saga.reason).toContain('payment provider unavailable');
      expect(unwound(view.saga.log, 'chargePayment:failed')).toEqual(unwoundCharge);
      expect(view.order).toMatchObject({ state: 'cancelled' });
      expect(view.reservation).toMatchObject({ state: 'released' });
      expect(view.shipment).toBeNull();
    }
    // The slow charge's failure (no answer in time) is retryable: tried once more, then given up. A charge that meets
    // the breaker open for longer than the step waits out a "retry after" (5 s) spends no attempt on it and fails at
    // once; how many tries the failing one gets depends on how long the breaker has left.
    expect(phases(slow.saga.log)).toContain('chargePayment:retrying');
    // The charge the payment service never saw succeed is refunded …
    expect(slow.payment).toMatchObject({ state: 'refunded', refunded: 1099 });
    expect((await ledgerOf(slowId)).totals).toMatchObject({ charged: 1099, refunded: 1099, net: 0, charges: 1, refunds: 1 });
    // … and where nothing landed the key is voided, so no late charge ever can.
    expect(failing.payment).toMatchObject({ state: 'voided' });
    expect((await ledgerOf(failingId)).totals).toMatchObject({ charges: 0, refunds: 0, net: 0 });
  }, 50_000);
});
