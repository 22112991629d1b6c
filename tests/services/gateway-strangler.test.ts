/**
 * The strangler fig on `GET /api/catalogue`, in-process, with the weight in the shared Redis under a test prefix and
 * an inventory stand-in on a free port: 0 → always legacy, 100 → always inventory, 50 → both; the weight is
 * validated, shared by replicas through Redis, and survives Redis being unreachable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createServiceApp } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { createDownstreamClient } from '../../services/gateway/downstreams.ts';
import { gatewayRoutes } from '../../services/gateway/routes.ts';
import { Strangler, stranglerKey, type WeightStore } from '../../services/gateway/strangler.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { CATALOGUE, envFor, inventoryStandIn, type StandIn } from './gateway-stand-ins.ts';

const prefix = testPrefix('gateway-strangler');
const redis = createClient({ url: SHARED_REDIS });
let inventory: StandIn;
let http: HttpClient;

beforeAll(async () => {
  await redis.connect();
  inventory = inventoryStandIn();
  http = createDownstreamClient({ env: envFor({ order: freePort(), inventory: inventory.port, payment: freePort(), shipping: freePort() }) });
});
afterAll(async () => {
  http?.dispose();
  await inventory?.stop();
  await redis.quit();
  await cleanupPrefix(prefix);
});

const gateway = (strangler: Strangler) => createServiceApp({ name: 'gateway', log: () => {} }).use(gatewayRoutes({ http, strangler }));
const dial = (options: { cacheMs?: number; store?: WeightStore } = {}) =>
  new Strangler({ store: options.store ?? (redis as unknown as WeightStore), key: stranglerKey(prefix), cacheMs: options.cacheMs ?? 1_000 });
const put = (app: ReturnType<typeof gateway>, body: unknown) =>
  app.handle(new Request('http://localhost/api/admin/strangler', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

/** Which source served each of `n` catalogue requests; checks the header agrees with the body. */
async function serve(app: ReturnType<typeof gateway>, n: number) {
  const counts = { legacy: 0, inventory: 0 };
  for (let i = 0; i < n; i++) {
    const res = await app.handle(new Request('http://localhost/api/catalogue'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { source: 'legacy' | 'inventory'; items: { sku: string; available: number }[] };
    expect(res.headers.get('x-served-by')).toBe(body.source);
    expect(body.items).toHaveLength(body.source === 'legacy' ? 12 : CATALOGUE.length);
    counts[body.source]++;
  }
  return counts;
}

describe('strangler fig', () => {
  it('should serve every request from the legacy handler before any weight is set', async () => {
    const app = gateway(dial());
    const view = (await (await app.handle(new Request('http://localhost/api/admin/strangler'))).json()) as any;
    expect(view).toEqual({ route: 'GET /api/catalogue, GET /api/catalogue/{sku}', weight: 0, updatedAt: null, stale: false });
    const legacy = (await (await app.handle(new Request('http://localhost/api/catalogue'))).json()) as any;
    expect(legacy.items[0]).toEqual({ sku: 'ENV-C5-100', name: 'C5 envelopes (100)', price: 1299, available: 212 });
  });

  it('should serve 200 requests at weight 0 all from legacy, at 100 all from inventory, at 50 from both', async () => {
    const app = gateway(dial());
    expect((await put(app, { weight: 0 })).status).toBe(200);
    expect(await serve(app, 200)).toEqual({ legacy: 200, inventory: 0 });
    const before = inventory.hits;
    expect((await put(app, { weight: 100 })).status).toBe(200);
    expect(await serve(app, 200)).toEqual({ legacy: 0, inventory: 200 });
    expect(inventory.hits - before).toBe(200);
    expect((await put(app, { weight: 50 })).status).toBe(200);
    const half = await serve(app, 200);
    // Binomial(200, 0.5): outside 60–140 about once in 10^8 runs.
    expect(half.legacy).toBeGreaterThan(60);
    expect(half.inventory).toBeGreaterThan(60);
  }, 15_000);

  it('should serve one SKU by the same weight as the catalogue: the legacy snapshot at 0, live stock from inventory at 100', async () => {
    const app = gateway(dial());
    const one = async () => {
      const res = await app.handle(new Request('http://localhost/api/catalogue/BOX-M'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { source: string; sku: string; name: string; price: number; available: number; reserved?: number };
      expect(res.headers.get('x-served-by')).toBe(body.source);
      return body;
    };
    expect((await put(app, { weight: 0 })).status).toBe(200);
    const list = (await (await app.handle(new Request('http://localhost/api/catalogue'))).json()) as { items: { sku: string; name: string; available: number }[] };
    const listed = list.items.find((i) => i.sku === 'BOX-M')!;
    // At weight 0 the list and the item agree: both the old system's name and stock.
    expect(await one()).toEqual({ source: 'legacy', sku: 'BOX-M', name: listed.name, price: 299, available: listed.available });
    expect(listed.name).not.toBe('Shipping box, medium'); // the inventory's name: the two systems do disagree
    expect((await app.handle(new Request('http://localhost/api/catalogue/NOPE-1'))).status).toBe(404);
    const before = inventory.hits;
    expect((await put(app, { weight: 100 })).status).toBe(200);
    const live = await one();
    expect(live.source).toBe('inventory');
    expect(live.reserved).toEqual(expect.any(Number));
    expect(inventory.hits).toBeGreaterThan(before);
  });

  it('should accept only whole weights 0–100, naming the field', async () => {
    const app = gateway(dial());
    for (const bad of [{ weight: -1 }, { weight: 101 }, { weight: 50.5 }, { weight: 'half' }, {}]) {
      const res = await put(app, bad);
      expect(res.status).toBe(422);
      expect(((await res.json()) as any).message).toContain('body.weight');
    }
    const ok = await put(app, { weight: 0 });
    expect(ok.status).toBe(200);
    const hundred = await put(app, { weight: 100 });
    expect(((await hundred.json()) as any).weight).toBe(100);
  });

  it('should keep the weight in Redis, where another replica picks it up within its cache time', async () => {
    const a = gateway(dial());
    const b = gateway(dial({ cacheMs: 50 }));
    await put(a, { weight: 10 });
    expect(((await (await b.handle(new Request('http://localhost/api/admin/strangler'))).json()) as any).weight).toBe(10);
    const set = (await (await put(a, { weight: 73 })).json()) as any;
    expect(set).toMatchObject({ weight: 73, stale: false });
    expect(await redis.hGetAll(stranglerKey(prefix))).toEqual({ weight: '73', updatedAt: String(set.updatedAt) });
    await Bun.sleep(60);
    expect(((await (await b.handle(new Request('http://localhost/api/admin/strangler'))).json()) as any).weight).toBe(73);
  });

  it('should keep serving with the last weight known when Redis is unreachable, and refuse to set one (503)', async () => {
    let up = true;
    const flaky: WeightStore = {
      hGetAll: (key) => (up ? redis.hGetAll(key) : Promise.reject(new Error('connection refused'))),
      hSet: (key, values) => (up ? redis.hSet(key, values) : new Promise(() => {})), // a client queueing while offline
    };
    const strangler = new Strangler({ store: flaky, key: stranglerKey(prefix), cacheMs: 0, readTimeoutMs: 50 });
    const app = gateway(strangler);
    await put(app, { weight: 100 });
    up = false;
    const view = (await (await app.handle(new Request('http://localhost/api/admin/strangler'))).json()) as any;
    expect(view).toMatchObject({ weight: 100, stale: true });
    expect(await serve(app, 5)).toEqual({ legacy: 0, inventory: 5 });
    const started = performance.now();
    const res = await put(app, { weight: 0 });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'redis' } });
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
