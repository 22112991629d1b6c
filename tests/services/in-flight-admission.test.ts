/**
 * The gateway's in-flight limit through the real shop (`MAILROOM_ADMISSION_MAX_IN_FLIGHT=2`, the backlog bounds out
 * of the way): with the payment service stopped (SIGSTOP), sagas cannot end, so once two orders are in flight the
 * next is refused at the door — 429 OVERLOADED, reason `in-flight`, Retry-After — and nothing of it exists; a repeat
 * of an order in flight is still answered. Once payment is back, the sagas end, the gateway hears of it from the
 * order service's events, and orders are accepted again.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { orderIdFor } from '../../services/gateway/order-routes.ts';
import { cleanupPrefix, testPrefix, waitFor } from '../helpers/redis.ts';
import { orderStateOf, placeOrder, startShop } from '../helpers/shop.ts';

const prefix = testPrefix('in-flight-shop');
// The payment step's timeout is long: the sagas held by the stopped payment service must not time out meanwhile.
const shop = await startShop(prefix, { MAILROOM_ADMISSION_MAX_IN_FLIGHT: '2', MAILROOM_ADMISSION_MAX_BACKLOG: '100000', MAILROOM_ADMISSION_MAX_AGE_MS: '3600000', MAILROOM_SAGA_PAYMENT_TIMEOUT_MS: '120000' });
let paymentStopped = false;
afterAll(async () => {
  if (paymentStopped) await shop.signal('payment', 'SIGCONT');
  await shop.close();
  await cleanupPrefix(prefix);
});

const place = (key: string) => placeOrder(shop, key, 'Ida Inflight');
const orderState = (orderId: string) => orderStateOf(shop, orderId);

describe('the gateway’s in-flight limit', () => {
  it('should refuse an order with 429 (in-flight) while two sagas cannot end, and accept orders again once they have', async () => {
    // The limit holds once the gateway follows the order service's log: its gauge says so (0 until then).
    await waitFor('the gateway to follow the order service’s events', async () => /mailroom_admission_in_flight_limit\{service="order"\} 2\b/.test(await (await fetch(shop.url('gateway', '/metrics'))).text()), 30_000, 100);
    await shop.signal('payment', 'SIGSTOP');
    paymentStopped = true;
    // Two orders are counted in flight; the third is refused.
    const accepted: string[] = [];
    let n = 0;
    const refusal = await waitFor('an order refused for the sagas in flight', async () => {
      const key = `in-flight-${n++}`;
      const res = await place(key);
      if (res.status === 202) return void accepted.push(key);
      if (res.status !== 429) throw new Error(`answered ${res.status}: ${await res.text()}`);
      return { key, res, body: (await res.json()) as { code: string; message: string; details: Record<string, unknown> } };
    }, 30_000, 100);
    expect(accepted).toHaveLength(2);

    expect(refusal.res.headers.get('retry-after')).toBe('1');
    expect(refusal.body.code).toBe('OVERLOADED');
    expect(refusal.body.details).toMatchObject({ service: 'order', reason: 'in-flight', inFlight: 2, limit: 2 });
    expect(refusal.body.message).toContain('still in flight');
    expect(refusal.body.message).toContain('nothing was done, retry in 1 s');
    expect(await orderState(orderIdFor(refusal.key))).toBe('HTTP 404');
    const metrics = await (await fetch(shop.url('gateway', '/metrics'))).text();
    expect(metrics).toMatch(/mailroom_admission_refused_total\{service="order",reason="in-flight"\} [1-9]/);

    // A repeat of an order in flight is no new work: answered, not refused.
    const repeat = await place(accepted.at(-1)!);
    expect(repeat.status).toBe(202);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');

    // Payment comes back: every saga ends, the gateway hears of it, and a new order is accepted and confirmed.
    await shop.signal('payment', 'SIGCONT');
    paymentStopped = false;
    for (const key of accepted) await waitFor(`order ${key} confirmed`, async () => (await orderState(orderIdFor(key))) === 'confirmed', 30_000, 100);
    const after = await waitFor('an order accepted again', async () => {
      const res = await place('in-flight-after');
      return res.status === 202 ? res : null;
    }, 10_000, 100);
    expect(after.status).toBe(202);
    await waitFor('the order placed after confirmed', async () => (await orderState(orderIdFor('in-flight-after'))) === 'confirmed', 30_000, 100);
    expect(await orderState(orderIdFor(refusal.key))).toBe('HTTP 404');
  }, 120_000);
});
