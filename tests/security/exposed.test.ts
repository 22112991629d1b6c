/**
 * Exposed mode with real processes: the whole shop and the control plane run with `MAILROOM_EXPOSED=1` (on loopback,
 * as exposed mode would on a public address) against a Redis of their own that wants a password and lets in one ACL
 * user only, through `REDIS_URL=redis://mailroom:<password>@…`. A client forging `Host: 127.0.0.1` gets a 401 JSON
 * error for a control read, for every guarded operation every process's OpenAPI document lists (a POST to each
 * service, the provider's PUT /faults among them) and for /metrics; with the credentials the shop still works: an
 * order placed through the gateway completes, and the control plane reads it through the order service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { freePort, testPrefix, waitFor } from '../helpers/redis.ts';
import { SHOP_PROCESSES, startShop, type Shop, type ShopProcess } from '../helpers/shop.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const token = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
const SERVICE_TOKEN = token();
const CONTROL_TOKEN = token();
const REDIS_PASSWORD = token();
const dir = mkdtempSync(join(tmpdir(), 'mailroom-exposed-'));
const redisPort = freePort();
const REDIS_URL = `redis://mailroom:${REDIS_PASSWORD}@127.0.0.1:${redisPort}`;

let redis: ReturnType<typeof Bun.spawn> | undefined;
let control: ReturnType<typeof Bun.spawn> | undefined;
let controlOutput = '';
let shop: Shop;

/** A redis-server that lets in only `mailroom` with its password (the default user is off). */
async function startPasswordRedis(): Promise<void> {
  const conf = join(dir, 'redis.conf');
  writeFileSync(conf, `port ${redisPort}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\nuser default off\nuser mailroom on >${REDIS_PASSWORD} ~* &* +@all\n`, { mode: 0o600 });
  redis = Bun.spawn(['redis-server', conf], { stdout: 'ignore', stderr: 'ignore' });
  await waitFor('the password Redis to answer', async () => {
    const client = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    await client.ping();
    await client.quit();
    return true;
  });
}

const env = () => ({ REDIS_URL, MAILROOM_EXPOSED: '1', MAILROOM_SERVICE_TOKEN: SERVICE_TOKEN, MAILROOM_DATA_DIR: dir });
const controlUrl = (path: string) => `http://127.0.0.1:${DEFAULT_PORTS.control + shop.offset}${path}`;
const FORGED = { host: '127.0.0.1' };

beforeAll(async () => {
  await startPasswordRedis();
  shop = await startShop(testPrefix('exposed'), env());
  control = Bun.spawn(['bun', 'services/control/main.ts'], {
    env: { ...process.env, MAILROOM_PORT_OFFSET: String(shop.offset), MAILROOM_PREFIX: shop.prefix, MAILROOM_SUPERVISOR_PID: '', MAILROOM_CONTROL_TOKEN: CONTROL_TOKEN, ...env() },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  for (const stream of [control.stdout, control.stderr]) {
    void (async () => {
      for await (const chunk of stream as ReadableStream<Uint8Array>) controlOutput = (controlOutput + new TextDecoder().decode(chunk)).slice(-4_000);
    })();
  }
  await waitFor('the control plane to answer /health', async () => (await fetch(controlUrl('/health'))).status === 200, 20_000, 50).catch((error) => {
    throw new Error(`${(error as Error).message}; its output: ${controlOutput}`);
  });
}, 60_000);

afterAll(async () => {
  control?.kill('SIGTERM');
  await control?.exited;
  await shop?.close();
  redis?.kill('SIGKILL');
  await redis?.exited;
  rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>;

/** Status, `WWW-Authenticate` and JSON body of a response. */
async function read(res: Response) {
  const text = await res.text();
  let body: Json | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body };
}

/** An operation's path with a sample for each parameter (`{sku}` → `BOX-S`). */
const sample = (path: string) => path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'sku' ? 'BOX-S' : `sample-${name}`));

/** The operations a process's served document marks with the service credential. */
async function guardedOperations(name: ShopProcess): Promise<{ method: string; path: string }[]> {
  const doc = (await (await fetch(shop.url(name, '/swagger/json'))).json()) as Json;
  expect(doc.components.securitySchemes.service).toMatchObject({ type: 'http', scheme: 'bearer' });
  return Object.entries(doc.paths as Json).flatMap(([path, ops]) =>
    Object.entries(ops as Json)
      .filter(([, op]) => (op as Json).security?.some((s: Json) => 'service' in s))
      .map(([method]) => ({ method: method.toUpperCase(), path })),
  );
}

describe('an exposed system, asked without credentials under a forged Host: 127.0.0.1', () => {
  it('should refuse a read of /control/actors with 401 and a JSON error, and answer it with the control token', async () => {
    for (const headers of [FORGED, { ...FORGED, authorization: `Bearer ${SERVICE_TOKEN}` }]) {
      const refused = await read(await fetch(controlUrl('/control/actors?service=order'), { headers }));
      expect(refused).toMatchObject({ status: 401, challenge: 'Bearer', body: { code: 'UNAUTHORIZED', message: expect.stringContaining('token') } });
    }
    const allowed = await read(await fetch(controlUrl('/control/actors?service=order'), { headers: { ...FORGED, authorization: `Bearer ${CONTROL_TOKEN}` } }));
    expect(allowed.status).toBe(200);
    expect(allowed.body).toHaveProperty('items');
  });

  it('should take the control token in the query of the live event stream only (EventSource sends no headers)', async () => {
    const without = await read(await fetch(controlUrl('/control/events/stream'), { headers: FORGED }));
    expect(without).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    const wrong = await read(await fetch(controlUrl(`/control/events/stream?access_token=${SERVICE_TOKEN}`), { headers: FORGED }));
    expect(wrong.status).toBe(401);
    const elsewhere = await read(await fetch(controlUrl(`/control/actors?access_token=${CONTROL_TOKEN}`), { headers: FORGED }));
    expect(elsewhere.status).toBe(401);
    const stream = await fetch(controlUrl(`/control/events/stream?access_token=${CONTROL_TOKEN}`), { headers: FORGED });
    expect({ status: stream.status, type: stream.headers.get('content-type') }).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
    await stream.body?.cancel();
  });

  it('should refuse every guarded operation of every process — a POST to each service and PUT /faults among them — with 401', async () => {
    const seen: string[] = [];
    for (const name of SHOP_PROCESSES) {
      const operations = await guardedOperations(name);
      for (const { method, path } of operations) {
        for (const authorization of [undefined, `Bearer ${CONTROL_TOKEN}`, `Bearer ${SERVICE_TOKEN}x`]) {
          const res = await read(
            await fetch(shop.url(name, sample(path)), {
              method,
              headers: { ...FORGED, 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
              // A body no schema accepts: the 401 must come first.
              body: method === 'GET' ? undefined : '{"not":"valid"',
            }),
          );
          expect({ process: name, method, path, authorization, status: res.status, code: res.body?.code }).toEqual({ process: name, method, path, authorization, status: 401, code: 'UNAUTHORIZED' });
        }
        seen.push(`${name} ${method} ${path}`);
      }
    }
    for (const name of ['order', 'inventory', 'payment', 'shipping', 'provider', 'gateway']) {
      expect({ name, posts: seen.some((s) => s.startsWith(`${name} POST `)) }).toEqual({ name, posts: true });
    }
    expect(seen).toContain('provider PUT /faults');
    expect(seen).toContain('gateway POST /api/catalogue/{sku}/restock');
  });

  it('should refuse PUT /faults and /metrics without the service credential, and let them through with it', async () => {
    const faults = (authorization?: string) =>
      fetch(shop.url('provider', '/faults'), { method: 'PUT', headers: { ...FORGED, 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ errorRate: 0 }) });
    expect(await read(await faults())).toMatchObject({ status: 401, challenge: 'Bearer', body: { code: 'UNAUTHORIZED', message: expect.stringContaining('service credential') } });
    const allowed = await faults(`Bearer ${SERVICE_TOKEN}`);
    await allowed.body?.cancel();
    expect(allowed.status).toBe(200);
    for (const name of [...SHOP_PROCESSES, 'control'] as const) {
      const url = name === 'control' ? controlUrl('/metrics') : shop.url(name, '/metrics');
      const refused = await fetch(url, { headers: FORGED });
      await refused.body?.cancel();
      const scraped = await fetch(url, { headers: { ...FORGED, authorization: `Bearer ${SERVICE_TOKEN}` } });
      await scraped.body?.cancel();
      expect({ name, refused: refused.status, scraped: scraped.status }).toEqual({ name, refused: 401, scraped: 200 });
    }
  });

  it('should leave /health, the OpenAPI document and the shop’s public API open', async () => {
    for (const name of SHOP_PROCESSES) {
      for (const path of ['/health', '/swagger/json', '/swagger']) {
        const res = await fetch(shop.url(name, path), { headers: FORGED });
        await res.body?.cancel();
        expect({ name, path, status: res.status }).toEqual({ name, path, status: 200 });
      }
    }
    const catalogue = await fetch(shop.url('gateway', '/api/catalogue'), { headers: FORGED });
    await catalogue.body?.cancel();
    expect(catalogue.status).toBe(200);
  });
});

describe('an exposed system with its credentials', () => {
  it('should complete an order placed through the gateway, the services calling each other with the service credential', async () => {
    const address = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' };
    const placed = await read(
      await fetch(shop.url('gateway', '/api/orders'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `exposed-${shop.prefix}` },
        body: JSON.stringify({ customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines: [{ sku: 'BOX-M', qty: 1 }], address }),
      }),
    );
    expect(placed.status).toBe(202);
    const orderId = placed.body!.orderId as string;
    // The gateway gathers the order from order, inventory, payment and shipping: each call carries the credential.
    const detail = await waitFor(
      'the saga to complete',
      async () => {
        const res = await read(await fetch(shop.url('gateway', `/api/orders/${orderId}`)));
        return res.body?.saga?.status === 'completed' ? res : undefined;
      },
      20_000,
      100,
    );
    expect(detail.body).toMatchObject({ order: { state: 'confirmed' }, payment: { state: 'charged' }, shipment: { state: 'scheduled' }, degraded: [] });

    // The control plane reads the saga from the order service, with the service credential.
    const saga = await read(await fetch(controlUrl(`/control/sagas/${orderId}`), { headers: { authorization: `Bearer ${CONTROL_TOKEN}` } }));
    expect(saga).toMatchObject({ status: 200, body: { orderId, status: 'completed' } });
    const breakers = await read(await fetch(controlUrl('/control/breakers'), { headers: { authorization: `Bearer ${CONTROL_TOKEN}` } }));
    expect(breakers.status).toBe(200);
    expect((breakers.body as unknown as Json[]).filter((b) => b.state === 'unreachable')).toEqual([]);
  }, 30_000);

  it('should have every process connected to Redis as the ACL user, and Redis refuse a client without the password', async () => {
    const admin = createClient({ url: REDIS_URL });
    await admin.connect();
    const clients = String(await admin.sendCommand(['CLIENT', 'LIST'])).trim().split('\n');
    await admin.quit();
    const users = new Set(clients.map((line) => /\buser=(\S+)/.exec(line)?.[1]));
    expect([...users]).toEqual(['mailroom']);
    // Seven processes, each with several connections (node, doorbells, chaos rules, inspection, registry, …).
    expect(clients.length).toBeGreaterThan(7);

    const anonymous = createClient({ url: `redis://127.0.0.1:${redisPort}`, socket: { reconnectStrategy: false } });
    anonymous.on('error', () => {});
    expect((await rejectionOf(anonymous.connect())).message).toMatch(/NOAUTH/);
    anonymous.destroy();
  });

  it('should keep the Redis password out of /health and the logs', async () => {
    for (const name of SHOP_PROCESSES) {
      const health = await (await fetch(shop.url(name, '/health'))).text();
      expect({ name, leaks: health.includes(REDIS_PASSWORD) || shop.output(name, 100_000).includes(REDIS_PASSWORD) }).toEqual({ name, leaks: false });
    }
    expect(controlOutput.includes(REDIS_PASSWORD)).toBe(false);
  });
});
