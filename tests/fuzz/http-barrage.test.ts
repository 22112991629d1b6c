/**
 * The bad-input barrage: every route of the gateway, the four services, the payment provider and the control plane
 * (found in each app's OpenAPI document and router, so a new route cannot slip past) gets at least 1,000 generated
 * requests in-process against real nodes — wrong types, missing fields, huge and negative numbers, NaN-like text,
 * RTL, zero-width, emoji and lone surrogates, injection-shaped strings, deep nesting, strings past every limit,
 * malformed JSON and wrong content types, plus a few valid requests so the handlers run. No answer may be a 5xx,
 * every 4xx must be a JSON `{ code, message }` a person can read, and every status must be one the route's OpenAPI
 * document lists. `FUZZ_RUNS` raises the runs per route,
 * `FUZZ_SEED` replays one seed.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { partitionKeys } from '../../runtime/keys.ts';
import { SHARED_REDIS, waitFor } from '../helpers/redis.ts';
import { APP_NAMES, startInProcessShop, type AppName, type InProcessShop } from './in-process-shop.ts';
import { barrage, discoverRoutes, RUNS_PER_ROUTE, type Route } from './barrage.ts';
import { routeInputs } from './route-inputs.ts';

/**
 * Garbage for the control plane to show: malformed entries written into each service's mailbox become dead letters
 * whose event is an object that cannot be printed, nests thousands of levels deep, is not JSON, is huge, or whose
 * address is binary. The control plane's dead-letter routes must list, replay and discard them like any other.
 */
async function seedHostileDeadLetters(shop: InProcessShop) {
  const redis = createClient({ url: SHARED_REDIS });
  await redis.connect();
  const hostile: Record<string, string | Buffer>[] = [
    { m: 'hostile-1', a: 'x/y/z', e: '{"toString":1,"valueOf":2}' },
    { m: 'hostile-3', a: 'x/y/z', e: '{not json' },
    { m: 'hostile-4', a: Buffer.from([0xff, 0xfe, 0x2f, 0xed, 0xa0, 0x80]), e: '{"type":"\ud800"}' },
    { m: 'hostile-6', a: 'x/y/z', e: '"just a string"' },
  ];
  // Big ones in one service only: every listing of the dead letters carries them, a thousand times over.
  const big: Record<string, string>[] = [
    { m: 'hostile-2', a: 'x/y/z', e: `${'['.repeat(5_000)}${']'.repeat(5_000)}` },
    { m: 'hostile-5', a: 'x/y/z', e: JSON.stringify({ type: 'big', pad: 'x'.repeat(20_000) }) },
  ];
  const services = ['order', 'inventory', 'payment', 'shipping'] as const;
  for (const service of services) {
    for (const fields of service === 'order' ? [...hostile, ...big] : hostile) await redis.xAdd(partitionKeys(shop.prefix, service, 0).mbox, '*', fields);
  }
  await redis.quit();
  const letters = await waitFor('the hostile entries to be dead-lettered', async () => {
    const all = (await Promise.all(services.map(async (service) => (await shop.nodes[service].deadLetters.list({ partition: 0 })).map((l) => ({ service, partition: l.partition, id: l.id }))))).flat();
    return all.length >= services.length * hostile.length + big.length ? all : null;
  });
  return letters;
}

const shop = await startInProcessShop();
// A key no request may touch: injection-shaped input that reached Redis as a command would show here.
const canary = createClient({ url: SHARED_REDIS });
await canary.connect();
const CANARY_KEY = `${shop.prefix}:canary`;
await canary.set(CANARY_KEY, 'still here');
const routes = Object.fromEntries(await Promise.all(APP_NAMES.map(async (name) => [name, await discoverRoutes(shop.apps[name])] as const))) as Record<AppName, Route[]>;
/** A charge worth refunding many times over, for the provider's refunds to find. */
async function seedCharge(shop: InProcessShop): Promise<string> {
  const res = await shop.apps.provider.handle(
    new Request('http://localhost/charges', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ idempotencyKey: 'fuzz-refundable', orderId: 'ord-fuzz-refundable', amount: 500_000 }) }),
  );
  return ((await res.json()) as { chargeId: string }).chargeId;
}

const ROUTE_INPUTS = routeInputs({ controlToken: shop.control.token, deadLetters: await seedHostileDeadLetters(shop), chargeIds: [await seedCharge(shop)] });

// The control plane probes the processes named by the environment: point it at this shop's servers.
const savedEnv = { ...process.env };
process.env.MAILROOM_HOST = '127.0.0.1';
for (const name of APP_NAMES) process.env[`MAILROOM_PORT_${name.toUpperCase()}`] = String(shop.ports[name]);

const report: { app: AppName; route: string; sent: number; ms: number; statuses: Record<number, number> }[] = [];

afterAll(async () => {
  await canary.quit();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await shop.close();
  if (process.env.FUZZ_REPORT) {
    for (const r of report) console.log(`${r.app.padEnd(9)} ${r.route.padEnd(40)} ${String(r.sent).padStart(5)} ${String(Math.round(r.ms)).padStart(6)} ms  ${JSON.stringify(r.statuses)}`);
  }
});

/** What to do after each request to a route, beyond checking the answer. */
const afterEach: Partial<Record<string, () => Promise<unknown>>> = {
  // A valid PUT /faults sets real fault rules; lift them so no other request (nor a saga's charge) meets them.
  'provider PUT /faults': () => shop.faults.clear(),
  // A valid POST /control/load starts placing orders through the gateway: stop it before the next request.
  'control POST /control/load': async () => shop.control.context.load.stop(),
};

/**
 * Bugs the barrage found in the control plane, which its own engineer fixes (services/control/): those routes run
 * as `it.failing` until then — a fix makes the test fail, and its entry must go — and their logged 500s are expected.
 */
const KNOWN_BUGS: Record<string, { what: string; logged: RegExp }> = {
  // None open. The barrage found three in the control plane, all fixed in dda454d: GET /% (and /api/%) a 500 from
  // decodeURIComponent in panel-files.ts; GET /control/deadletters a 500 for a dead letter whose event has no string
  // type (String() of a deep array or of an object with its own toString); an upstream's bodiless 431 relayed as is.
  // Then one in the provider (seed 1886848799): POST /charges with an idempotency key of a lone surrogate ("\udfff")
  // reached its ledger script, whose cjson refuses the escape — a 500. The frame now refuses such a body with 400
  // (tests/http/hostile-bodies.test.ts).
};

describe('bad-input barrage', () => {
  it('should have an input generator for every route every app serves, and none for a route that is gone', () => {
    const missing = APP_NAMES.flatMap((name) => routes[name].filter((r) => !ROUTE_INPUTS[name][r.key]).map((r) => `${name} ${r.key}`));
    const stale = APP_NAMES.flatMap((name) => Object.keys(ROUTE_INPUTS[name]).filter((key) => !routes[name].some((r) => r.key === key)).map((key) => `${name} ${key}`));
    expect(missing).toEqual([]);
    expect(stale).toEqual([]);
  });

  // Payment before the provider: the provider's barrage sets (and lifts) fault rules that could trip the payment
  // service's breaker if a saga's charge met one.
  const order: AppName[] = ['order', 'inventory', 'shipping', 'payment', 'provider', 'notifications', 'gateway', 'control'];
  for (const name of order) {
    describe(name, () => {
      // Reads first, then writes, removals last: the dead letters and rules seeded or added are still there to read.
      const rank = (method: string) => ['GET', 'PUT', 'POST', 'DELETE'].indexOf(method);
      for (const route of routes[name].toSorted((a, b) => rank(a.method) - rank(b.method))) {
        const known = KNOWN_BUGS[`${name} ${route.key}`];
        const test = known ? it.failing : it;
        const runs = ROUTE_INPUTS[name][route.key]?.runs ?? RUNS_PER_ROUTE;
        test(`should answer ${runs} generated requests to ${route.key} with no 5xx and every 4xx a JSON error${known ? ` (known bug: ${known.what})` : ''}`, async () => {
          const fuzz = ROUTE_INPUTS[name][route.key];
          if (!fuzz) throw new Error(`no input generator for ${name} ${route.key}: add one to tests/fuzz/route-inputs.ts`);
          const extra = afterEach[`${name} ${route.key}`];
          const started = performance.now();
          const result = await barrage(shop.apps[name], route, extra ? { ...fuzz, after: async () => void (await extra()) } : fuzz, runs, [shop.control.token]);
          report.push({ app: name, route: route.key, sent: result.sent, ms: performance.now() - started, statuses: result.statuses });
          expect(result.sent).toBeGreaterThanOrEqual(runs);
          // 60 s for the default 1,000 runs (the slowest route takes ~3 s); FUZZ_RUNS raised scales it.
        }, 60 * Math.max(1_000, runs));
      }
    });
  }

  it('should leave every app healthy, the data in Redis intact, no unexpected error logged, and no prototype polluted', async () => {
    expect(await canary.get(CANARY_KEY)).toBe('still here');
    const skus = (await (await shop.apps.inventory.handle(new Request('http://localhost/skus'))).json()) as { items: unknown[] };
    expect(skus.items.length).toBeGreaterThanOrEqual(12);
    for (const name of APP_NAMES) {
      const res = await shop.apps[name].handle(new Request('http://localhost/health'));
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
    expect(shop.logged.filter((line) => !Object.values(KNOWN_BUGS).some((bug) => bug.logged.test(line)))).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});
