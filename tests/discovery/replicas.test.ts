/**
 * The shop with two order instances behind one gateway, all real processes on the shared Redis: the gateway finds
 * both through the node registry and spreads its calls over them (counted per instance, by the gateway and by each
 * instance itself), and once one instance is SIGKILLed under load, every order placed through the gateway is still
 * accepted — calls that hit the dead instance are moved to the live one, refusals while the system is behind are
 * retried after their Retry-After — and the dead one leaves the gateway's list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { REPLICA_PORT_STEP } from '../../services/processes.ts';
import { openDiscovery, type Discovery } from '../../runtime/discovery/index.ts';
import { startShop, type Shop } from '../helpers/shop.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('replicas');
let shop: Shop;
let second: ReturnType<typeof Bun.spawn>;
let secondAddress: string;
let discovery: Discovery;

beforeAll(async () => {
  shop = await startShop(prefix);
  const port = DEFAULT_PORTS.order + shop.offset + REPLICA_PORT_STEP;
  secondAddress = `127.0.0.1:${port}`;
  // order#2, as `bun run dev --replicas 2` starts it: the same entry, its own port.
  second = Bun.spawn(['bun', 'services/order/main.ts'], {
    env: { ...process.env, MAILROOM_PORT_OFFSET: String(shop.offset), MAILROOM_PORT_ORDER: String(port), MAILROOM_PREFIX: prefix, REDIS_URL: SHARED_REDIS, MAILROOM_SUPERVISOR_PID: '' },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  await waitFor('order#2 to answer /health', async () => (await fetch(`http://${secondAddress}/health`).catch(() => null))?.status === 200, 20_000, 50);
  discovery = await openDiscovery({ redis: SHARED_REDIS, keyPrefix: prefix, services: ['order'], refreshMs: 100 });
  await waitFor('both order instances in the registry', () => discovery.instances('order').length === 2, 10_000, 50);
}, 60_000);

afterAll(async () => {
  second?.kill('SIGKILL');
  await discovery?.close();
  await shop?.close();
  await cleanupPrefix(prefix);
});

const orderStats = async () => {
  const body = (await (await fetch(shop.url('gateway', '/api/breakers'))).json()) as Record<string, { dependency: string; baseUrl: string; requests: number }>;
  return Object.fromEntries(Object.values(body).filter((s) => s.dependency === 'order').map((s) => [s.baseUrl.slice('http://'.length), s.requests]));
};

/**
 * Places order i as a well-behaved client does: a 429 (the gateway's admission control shedding load while a
 * service is behind, as it is while the dead instance's partitions move) is retried after its Retry-After, with the
 * same idempotency key. Answers the final status.
 */
const placeOrder = async (i: number): Promise<number> => {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(shop.url('gateway', '/api/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-${i}` },
      body: JSON.stringify({ customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines: [{ sku: 'TAPE-48', qty: 1 }], address: { name: 'Ada', line1: '12 St James Square', city: 'London', country: 'GB' } }),
    });
    if (res.status !== 429 || attempt === 50) return res.status;
    await res.arrayBuffer();
    await Bun.sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
  }
};

describe('two order instances behind the gateway', () => {
  it('should spread the gateway’s calls over both instances', async () => {
    // The gateway refreshes its list every 250 ms: until it sees the second instance, its calls all go to the first.
    await waitFor('the gateway to call order#2', async () => {
      await fetch(shop.url('gateway', '/api/orders?limit=1'));
      return ((await orderStats())[secondAddress] ?? 0) > 0;
    }, 10_000, 20);
    const before = await orderStats();
    for (let i = 0; i < 20; i++) expect((await fetch(shop.url('gateway', '/api/orders?limit=1'))).status).toBe(200);
    const after = await orderStats();
    const first = `127.0.0.1:${DEFAULT_PORTS.order + shop.offset}`;
    const delta = (address: string) => (after[address] ?? 0) - (before[address] ?? 0);
    expect(Object.keys(after).sort()).toEqual([first, secondAddress].sort());
    expect(delta(first) + delta(secondAddress)).toBe(20);
    expect(delta(first)).toBe(10); // round robin: sequential calls alternate
    expect(delta(secondAddress)).toBe(10);

    // Each instance counts what it served, too, and says so in its heartbeat.
    await waitFor('the heartbeats to report the requests served', async () => {
      await discovery.refresh();
      return discovery.instances('order').every((i) => Number(i.info.requests) >= 10);
    }, 10_000, 100);
  });

  it('should lose no order placed through the gateway when one order instance is killed under load', async () => {
    const WORKERS = 4;
    const TOTAL = 60;
    const KILL_AT = 16;
    const statuses: number[] = [];
    let next = 0;
    let killed: Promise<void> | undefined;
    const start = await orderStats();
    let atKill: Record<string, number> = {};
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        if (i === KILL_AT) {
          atKill = await orderStats();
          second.kill('SIGKILL');
          killed = second.exited.then(() => {});
        }
        statuses.push(await placeOrder(i));
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await killed;
    expect(statuses.length).toBe(TOTAL);
    // Every order accepted: calls that found the dead instance were moved to the live one.
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    // The killed instance was taking its share of the orders until then.
    expect((atKill[secondAddress] ?? 0) - (start[secondAddress] ?? 0)).toBeGreaterThan(0);
    // And the gateway's list forgets it within its lease TTL (the registry stops listing it).
    await waitFor('the dead instance to leave discovery', () => discovery.instances('order').length === 1, 10_000, 50);
    expect(discovery.origins('order')).toEqual([`http://127.0.0.1:${DEFAULT_PORTS.order + shop.offset}`]);
  });
});
