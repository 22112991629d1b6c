/**
 * Admission control through the real shop: with the order service stopped (SIGSTOP) and its mailboxes flooded past
 * the bound, the gateway refuses a new order at the door — 429 OVERLOADED with Retry-After and a message naming the
 * service and the bound — and nothing of that order exists anywhere, then or after the backlog has drained; once the
 * order service is back and has drained its mailboxes, orders are accepted and fulfilled again.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { orderIdFor } from '../../services/gateway/order-routes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { orderStateOf, placeOrder, startShop } from '../helpers/shop.ts';

const prefix = testPrefix('admission-shop');
const PARTITIONS = 8;
// Only the backlog decides here (the age bound is an hour): the flood is 60 messages, the bound 5 per partition.
const shop = await startShop(prefix, { MAILROOM_ADMISSION_MAX_BACKLOG: '5', MAILROOM_ADMISSION_MAX_AGE_MS: '3600000' });
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();
afterAll(async () => {
  await shop.close();
  await redis.quit();
  await cleanupPrefix(prefix);
});

const place = (key: string) => placeOrder(shop, key);
const orderState = (orderId: string) => orderStateOf(shop, orderId);

/** Every key and mailbox entry that would exist had any part of the order been written. */
async function tracesOf(orderId: string): Promise<string[]> {
  const found: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const order = partitionKeys(prefix, 'order', p);
    const inventory = partitionKeys(prefix, 'inventory', p);
    for (const key of [order.actor('order', orderId), order.actor('fulfillment', orderId), inventory.actor('reservation', orderId)]) if (await redis.exists(key)) found.push(key);
    for (const mbox of [order.mbox, inventory.mbox]) {
      for (const entry of (await redis.xRange(mbox, '-', '+')) ?? []) if (JSON.stringify(entry.message).includes(orderId)) found.push(`${mbox} ${entry.id}`);
    }
  }
  return found;
}

describe('admission control at the gateway', () => {
  it('should refuse an order with 429 and Retry-After while the order service is flooded, write nothing of it, and accept orders again once drained', async () => {
    // Open at first: an order goes through (and the gateway starts sampling).
    const first = await place('admission-before');
    expect(first.status).toBe(202);
    await waitFor('the first order confirmed', async () => (await orderState(orderIdFor('admission-before'))) === 'confirmed', 30_000);

    // The order service stops consuming; its mailboxes fill past the bound.
    await shop.signal('order', 'SIGSTOP');
    const flooder = await createNode({ service: 'flooder', actors: [], consume: false, keyPrefix: prefix, redis: SHARED_REDIS, onError: () => {} });
    try {
      for (let i = 0; i < 60; i++) await flooder.send(`order/order/flood-${i}`, { type: 'noop' });
    } finally {
      await flooder.stop();
    }
    // A probe may still be let through before the gateway's next sample (it then waits on the stopped service).
    let probes = 0;
    await waitFor('the gateway to refuse an order', async () => (await place(`admission-probe-${probes++}`)).status === 429, 30_000, 50);

    const refusedKey = 'admission-refused';
    const refused = await place(refusedKey);
    expect(refused.status).toBe(429);
    const retryAfter = refused.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    const body = (await refused.json()) as { code: string; message: string; details: Record<string, unknown> };
    expect(body.code).toBe('OVERLOADED');
    expect(body.message).toContain('order is overloaded');
    expect(body.message).toContain('the bound is 5');
    expect(body.message).toContain('nothing was done');
    expect(body.details).toMatchObject({ service: 'order', reason: 'backlog', maxBacklog: 5 });
    expect(Number(body.details.retryAfterMs)).toBe(Number(retryAfter) * 1000);
    expect(await tracesOf(orderIdFor(refusedKey))).toEqual([]);
    const metrics = await (await fetch(shop.url('gateway', '/metrics'))).text();
    expect(metrics).toMatch(/mailroom_admission_refused_total\{service="order",reason="backlog"\} [1-9]/);

    // The order service comes back and drains its mailboxes: orders are admitted again, and fulfilled.
    await shop.signal('order', 'SIGCONT');
    await waitFor('the gateway to accept an order again', async () => {
      const res = await place('admission-after');
      if (res.status !== 202 && res.status !== 429) throw new Error(`answered ${res.status}: ${await res.text()}`);
      return res.status === 202;
    }, 60_000, 100);
    await waitFor('the order placed after the drain confirmed', async () => (await orderState(orderIdFor('admission-after'))) === 'confirmed', 30_000);

    // The refused order never came to be, not even once everything queued before it was applied.
    expect(await orderState(orderIdFor(refusedKey))).toBe('HTTP 404');
    expect(await tracesOf(orderIdFor(refusedKey))).toEqual([]);
  }, 150_000);
});
