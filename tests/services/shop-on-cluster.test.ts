/**
 * The whole shop on a Redis Cluster (3 masters, 3 replicas, started for this file), as `bun run dev --cluster` runs
 * it: every process finds the cluster in `MAILROOM_REDIS_CLUSTER`, and an order placed through the gateway completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { SHOP_PARTITIONS } from '../../services/config.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.ts';
import { testPrefix, waitFor } from '../helpers/redis.ts';
import { startShop, type Shop } from '../helpers/shop.ts';

let cluster: TestCluster;
let shop: Shop;
let link: RedisLink;
beforeAll(async () => {
  cluster = await startTestCluster();
  link = await openLink(cluster.url);
  // REDIS_URL points nowhere: a process that ignored the cluster could not start.
  shop = await startShop(testPrefix('shop-cluster'), { MAILROOM_REDIS_CLUSTER: cluster.env, REDIS_URL: 'redis://127.0.0.1:1' });
}, 60_000);
afterAll(async () => {
  await shop?.close();
  await link?.close();
  await cluster?.stop();
});

describe('the shop on a Redis Cluster', () => {
  it('should complete an order placed through the gateway, its saga and actors on several masters', async () => {
    const address = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' };
    const res = await fetch(shop.url('gateway', '/api/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `cluster-${shop.prefix}` },
      body: JSON.stringify({ customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines: [{ sku: 'BOX-M', qty: 2 }, { sku: 'TAPE-48', qty: 1 }], address }),
    });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };
    const detail = await waitFor('the order to be confirmed and its saga completed', async () => {
      const d = (await (await fetch(shop.url('gateway', `/api/orders/${orderId}`))).json()) as { order: { state: string }; saga?: { status: string } | null };
      return d.order?.state === 'confirmed' && d.saga?.status === 'completed' ? d : null;
    }, 30_000, 100);
    expect(detail.order.state).toBe('confirmed');
    // The services' mailboxes really are spread over the masters (not all in one slot's node).
    const ranges = (await link.call(['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const masters = new Set<number>();
    for (const service of ['order', 'inventory', 'payment', 'shipping']) {
      for (let p = 0; p < SHOP_PARTITIONS; p++) {
        const slot = Number(await link.call(['CLUSTER', 'KEYSLOT', partitionKeys(shop.prefix, service, p).mbox]));
        masters.add(ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]);
      }
    }
    expect(masters.size).toBe(3);
  }, 60_000);
});
