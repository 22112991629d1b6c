/**
 * The gateway over real processes: order, inventory, payment, shipping, the payment provider and the gateway, each
 * `bun services/<name>/main.ts` on a free port range (`MAILROOM_PORT_OFFSET`) with a test key prefix on the shared
 * Redis. Until the saga drives an order, the test drives its reservation, charge and shipment through the services'
 * own routes, then reads them back through the gateway; with the payment process stopped, the order view still
 * answers, naming the payment as degraded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { freeLoopbackOffset } from '../helpers/port-offset.ts';
import { BUN_PROCESSES } from '../../services/processes.ts';

const NAMES = ['order', 'inventory', 'payment', 'shipping', 'provider', 'gateway'] as const;
type Name = (typeof NAMES)[number];
/** Each process's entry file, as the supervisor starts it. */
const ENTRY = Object.fromEntries(BUN_PROCESSES) as Record<Name, string>;

const prefix = testPrefix('gateway-e2e');
const offset = freeLoopbackOffset(NAMES);
const url = (name: Name, path: string) => `http://127.0.0.1:${DEFAULT_PORTS[name] + offset}${path}`;
const processes = new Map<Name, ReturnType<typeof Bun.spawn>>();
const output = new Map<Name, string[]>();

function start(name: Name) {
  const proc = Bun.spawn(['bun', ENTRY[name]], {
    env: { ...process.env, MAILROOM_PORT_OFFSET: String(offset), MAILROOM_PREFIX: prefix, REDIS_URL: SHARED_REDIS, MAILROOM_SUPERVISOR_PID: '' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines: string[] = [];
  output.set(name, lines);
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      for await (const chunk of stream as ReadableStream<Uint8Array>) lines.push(new TextDecoder().decode(chunk));
    })();
  }
  processes.set(name, proc);
}

async function healthy(name: Name) {
  await waitFor(
    `${name} to answer /health (output: ${output.get(name)?.join('').slice(-400)})`,
    async () => (await fetch(url(name, '/health'))).status === 200,
    20_000,
    100,
  );
}

beforeAll(async () => {
  for (const name of NAMES) start(name);
  await Promise.all(NAMES.map(healthy));
}, 30_000);
afterAll(async () => {
  for (const proc of processes.values()) proc.kill('SIGTERM');
  await Promise.all([...processes.values()].map((p) => Promise.race([p.exited, Bun.sleep(3_000).then(() => p.kill('SIGKILL'))])));
  await cleanupPrefix(prefix);
});

const post = (name: Name, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url(name, path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const read = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

const address = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' };
let orderId = '';
let total = 0;

describe('gateway over real processes', () => {
  it('should answer curl -X POST /api/orders -d {} with 415 (a form, not JSON), {} as JSON with 422 naming the missing field, and serve its Swagger UI', async () => {
    const form = await read(await fetch(url('gateway', '/api/orders'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{}' }));
    expect(form.status).toBe(415);
    const res = await read(await fetch(url('gateway', '/api/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(res.status).toBe(422);
    expect(res.body.message).toContain('body.customer is required');
    const swagger = await fetch(url('gateway', '/swagger'));
    expect(swagger.status).toBe(200);
    expect(swagger.headers.get('content-type')).toContain('text/html');
  });

  it('should show an order’s reservation, charge and shipment through the gateway once the saga has fulfilled it', async () => {
    const lines = [
      { sku: 'BOX-M', qty: 2 },
      { sku: 'TAPE-48', qty: 1 },
    ];
    const placed = await read(await post('gateway', '/api/orders', { customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines, address }, { 'idempotency-key': `e2e-${prefix}` }));
    expect(placed.status).toBe(202);
    orderId = placed.body.orderId;
    const replay = await read(await post('gateway', '/api/orders', { customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines, address }, { 'idempotency-key': `e2e-${prefix}` }));
    expect(replay.body.orderId).toBe(orderId);

    const fresh = await read(await fetch(url('gateway', `/api/orders/${orderId}`)));
    expect(fresh.status).toBe(200);
    total = fresh.body.order.total;
    expect(total).toBe(2 * 299 + 399); // priced from the seeded catalogue
    expect(fresh.body.degraded).toEqual([]);

    // The fulfillment saga reserves, charges, schedules and confirms; the gateway shows each part. Then it commits the
    // reservation and completes once inventory acknowledges that, a turn or two after the order is confirmed: wait
    // for all three facts.
    let full = fresh;
    const done = () => full.body.order?.state === 'confirmed' && full.body.reservation?.state === 'committed' && full.body.saga?.status === 'completed';
    for (const deadline = Date.now() + 10_000; !done() && Date.now() < deadline; ) {
      await Bun.sleep(50);
      full = await read(await fetch(url('gateway', `/api/orders/${orderId}`)));
    }
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({
      orderId,
      order: { orderId, state: 'confirmed', total, lines: [{ sku: 'BOX-M', qty: 2, price: 299 }, { sku: 'TAPE-48', qty: 1, price: 399 }] },
      reservation: { orderId, state: 'committed' },
      payment: { orderId, state: 'charged', amount: total, chargeId: expect.any(String) },
      shipment: { orderId, state: 'scheduled', trackingId: expect.any(String) },
      saga: { orderId, status: 'completed', step: 'completed' },
      degraded: [],
    });
    expect(full.body.reservation.lines).toEqual(expect.arrayContaining(lines));
    const ledger = (await read(await fetch(url('provider', '/ledger')))).body;
    expect(ledger.charges.filter((c: any) => c.orderId === orderId)).toHaveLength(1);
  }, 20_000);

  it('should still answer 200 with degraded ["payment"] while the payment process is stopped', async () => {
    expect(orderId).not.toBe('');
    const payment = processes.get('payment')!;
    payment.kill('SIGTERM');
    expect(await payment.exited).toBe(0);

    const started = performance.now();
    const res = await read(await fetch(url('gateway', `/api/orders/${orderId}`)));
    expect(res.status).toBe(200);
    expect(res.body.degraded).toEqual(['payment']);
    expect('payment' in res.body).toBe(false);
    expect(res.body).toMatchObject({ order: { orderId }, reservation: { state: 'committed' }, shipment: { state: 'scheduled' } });
    expect(performance.now() - started).toBeLessThan(1_500);

    // Enough failures open the payment breaker; from then on the part is left out without a call.
    for (let i = 0; i < 5; i++) await fetch(url('gateway', `/api/orders/${orderId}`));
    const breakers = (await read(await fetch(url('gateway', '/api/breakers')))).body;
    expect(breakers.payment.breaker.state).toBe('open');
    expect(breakers.order.breaker.state).toBe('closed');
  }, 20_000);
});
