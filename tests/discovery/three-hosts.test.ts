/**
 * Several machines, simulated on the loopback range: the shop's processes spread over three "hosts" — 127.0.0.2,
 * 127.0.0.3 and 127.0.0.4 — each process bound to its host's address (`MAILROOM_HOST`) and advertising the address
 * callers use (`MAILROOM_ADVERTISE`), on the same ports as on the other hosts, as separate machines would. Nothing
 * listens on 127.0.0.1, so the gateway reaches every service only through the registry. An order placed through
 * the gateway completes: reserved, charged, shipped, confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { openDiscovery, type Discovery } from '../../runtime/discovery/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { freeOffset } from '../helpers/port-offset.ts';
import { BUN_PROCESSES } from '../../services/processes.ts';

const prefix = testPrefix('three-hosts');
type Name = 'order' | 'inventory' | 'payment' | 'shipping' | 'provider' | 'gateway';
/** Each process's entry file, as the supervisor starts it. */
const ENTRY = Object.fromEntries(BUN_PROCESSES) as Record<Name, string>;
/** Which host runs what: two order nodes on different hosts; the provider beside payment (payment calls it on its own host). */
const PLACEMENT: [host: string, name: Name][] = [
  ['127.0.0.2', 'gateway'],
  ['127.0.0.2', 'order'],
  ['127.0.0.3', 'order'],
  ['127.0.0.3', 'inventory'],
  ['127.0.0.3', 'shipping'],
  ['127.0.0.4', 'payment'],
  ['127.0.0.4', 'provider'],
];

const offset = freeOffset(PLACEMENT);
const procs: { host: string; name: Name; proc: ReturnType<typeof Bun.spawn>; out: string[] }[] = [];
const at = (host: string, name: Name, path: string) => `http://${host}:${DEFAULT_PORTS[name] + offset}${path}`;
let discovery: Discovery;

beforeAll(async () => {
  for (const [host, name] of PLACEMENT) {
    const proc = Bun.spawn(['bun', ENTRY[name]], {
      env: { ...process.env, MAILROOM_HOST: host, MAILROOM_ADVERTISE: host, MAILROOM_PORT_OFFSET: String(offset), MAILROOM_PREFIX: prefix, REDIS_URL: SHARED_REDIS, MAILROOM_SUPERVISOR_PID: '' },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const out: string[] = [];
    for (const stream of [proc.stdout, proc.stderr]) {
      void (async () => {
        for await (const chunk of stream as ReadableStream<Uint8Array>) out.push(new TextDecoder().decode(chunk));
      })();
    }
    procs.push({ host, name, proc, out });
  }
  await Promise.all(
    procs.map(({ host, name, out }) => waitFor(`${name} on ${host} to answer /health (${out.join('').slice(-300)})`, async () => (await fetch(at(host, name, '/health')).catch(() => null))?.status === 200, 30_000, 100)),
  );
  await waitFor('the catalogue to be seeded', () => procs.find((p) => p.name === 'inventory')!.out.join('').includes('catalogue seeded'), 20_000, 50);
  discovery = await openDiscovery({ redis: SHARED_REDIS, keyPrefix: prefix, services: ['order', 'inventory', 'payment', 'shipping', 'gateway'], refreshMs: 100 });
}, 60_000);

afterAll(async () => {
  for (const { proc } of procs) proc.kill('SIGTERM');
  await Promise.all(procs.map(({ proc }) => Promise.race([proc.exited, Bun.sleep(3_000).then(() => proc.kill('SIGKILL'))])));
  await discovery?.close();
  await cleanupPrefix(prefix);
});

describe('the shop across three hosts', () => {
  it('should register every node at its own host’s address', async () => {
    await waitFor('every node in the registry', () => discovery.instances('order').length === 2 && ['inventory', 'payment', 'shipping', 'gateway'].every((s) => discovery.instances(s).length === 1), 10_000, 50);
    const where = (service: string) => discovery.instances(service).map((i) => i.address);
    expect(where('order')).toEqual([`127.0.0.2:${DEFAULT_PORTS.order + offset}`, `127.0.0.3:${DEFAULT_PORTS.order + offset}`]);
    expect(where('inventory')).toEqual([`127.0.0.3:${DEFAULT_PORTS.inventory + offset}`]);
    expect(where('shipping')).toEqual([`127.0.0.3:${DEFAULT_PORTS.shipping + offset}`]);
    expect(where('payment')).toEqual([`127.0.0.4:${DEFAULT_PORTS.payment + offset}`]);
    expect(where('gateway')).toEqual([`127.0.0.2:${DEFAULT_PORTS.gateway + offset}`]);
  });

  it('should complete an order placed through the gateway', async () => {
    const gateway = (path: string, init?: RequestInit) => fetch(at('127.0.0.2', 'gateway', path), init);
    // As a client of the API would: a 503 says when to retry (Retry-After), and the same Idempotency-Key makes the
    // retry safe. The gateway reads the registry every 250 ms, so its copy can lag the one this test just read.
    const place = () =>
      gateway('/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-1` },
        body: JSON.stringify({ customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines: [{ sku: 'BOX-M', qty: 2 }], address: { name: 'Ada', line1: '12 St James Square', city: 'London', country: 'GB' } }),
      });
    let placed = await place();
    for (let tries = 1; placed.status === 503 && tries < 5; tries++) {
      await Bun.sleep(Number(placed.headers.get('retry-after') ?? '1') * 1000);
      placed = await place();
    }
    const accepted = (await placed.json()) as { orderId: string };
    expect({ status: placed.status, body: placed.status === 202 ? 'accepted' : accepted }).toEqual({ status: 202, body: 'accepted' });
    const { orderId } = accepted;
    let view: any;
    await waitFor(
      'the order to be confirmed and its saga completed',
      async () => {
        view = await (await gateway(`/api/orders/${orderId}`)).json();
        return view.order?.state === 'confirmed' && view.saga?.status === 'completed';
      },
      30_000,
      100,
    );
    expect(view.degraded).toEqual([]);
    expect(view.payment?.state).toBeDefined();
    expect(view.shipment).toBeDefined();
    // The gateway reached the services on their hosts: each host's instance was called.
    const stats = (await (await gateway('/api/breakers')).json()) as Record<string, { baseUrl: string; requests: number }>;
    const called = Object.values(stats).filter((s) => s.requests > 0).map((s) => new URL(s.baseUrl).hostname);
    expect(new Set(called)).toEqual(new Set(['127.0.0.2', '127.0.0.3', '127.0.0.4']));
  });
});
