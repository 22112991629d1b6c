/**
 * The payment service and the provider as real processes (their main.ts) on the shared Redis under a test prefix:
 * what the issue asks to see over processes — the breaker tripping on a failing provider and then keeping calls
 * away from it, one charge per order whatever repeats or crashes, and a provider whose ledger and rules survive it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startChild, type Child } from '../helpers/processes.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const root = `${import.meta.dir}/../..`;
const prefix = testPrefix('payment-processes');
const ports = { payment: freePort(), provider: freePort() };
const env = {
  REDIS_URL: SHARED_REDIS,
  MAILROOM_PREFIX: prefix,
  MAILROOM_PORT_PAYMENT: String(ports.payment),
  MAILROOM_PORT_PROVIDER: String(ports.provider),
};
const paymentUrl = `http://127.0.0.1:${ports.payment}`;
const providerUrl = `http://127.0.0.1:${ports.provider}`;

async function start(name: 'payment' | 'payment-provider'): Promise<Child> {
  const child = startChild(`${root}/services/${name}/main.ts`, env);
  await child.waitLine(`${name} to listen`, (line) => typeof line.text === 'string' && line.text.includes('listening on'));
  return child;
}

async function http(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}
const payment = (method: string, path: string, body?: unknown) => http(paymentUrl, method, path, body);
const provider = (method: string, path: string, body?: unknown) => http(providerUrl, method, path, body).then((a) => a.body);

let paymentProcess: Child;
let providerProcess: Child;
let seq = 0;
const fresh = () => `proc-${process.pid}-${++seq}`;

beforeAll(async () => {
  [providerProcess, paymentProcess] = await Promise.all([start('payment-provider'), start('payment')]);
});
afterAll(async () => {
  await Promise.all([paymentProcess?.kill('SIGTERM'), providerProcess?.kill('SIGTERM')]);
  await cleanupPrefix(prefix);
});

describe('payment and provider processes', () => {
  it('should charge once for concurrent duplicate charge requests of one order', async () => {
    const orderId = fresh();
    const answers = await Promise.all(Array.from({ length: 8 }, () => payment('POST', `/payments/${orderId}/charge`, { amount: 1999 })));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.body.chargeId)).size).toBe(1);
    const ledger = await provider('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.charges).toHaveLength(1);
    expect(ledger.totals.charged).toBe(1999);
  });

  it('should charge once when the payment process is killed mid-charge and its effect re-runs elsewhere', async () => {
    const orderId = fresh();
    await provider('PUT', '/faults', { errorRate: 0, latencyMs: { min: 600, max: 600 } });
    const received = (await provider('GET', '/ledger?limit=1')).requests.charges;
    const inFlight = payment('POST', `/payments/${orderId}/charge`, { amount: 3100 }).catch(() => null);
    await waitFor('the charge to reach the provider', async () => (await provider('GET', '/ledger?limit=1')).requests.charges > received, 5_000, 10);
    await paymentProcess.kill('SIGKILL');
    await inFlight;
    await provider('DELETE', '/faults');
    paymentProcess = await start('payment');
    // The new node takes the partition once the dead one's lease expires, and runs the recorded effect again.
    const charged = await waitFor(
      'the re-run charge',
      async () => {
        const view = await payment('GET', `/payments/${orderId}`);
        return view.body.state === 'charged' ? view.body : null;
      },
      10_000,
      100,
    );
    const ledger = await provider('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.charges).toHaveLength(1);
    expect(ledger.charges[0].chargeId).toBe(charged.chargeId);
  }, 15_000);

  it('should open the breaker on a provider failing 100% and then reject charges fast without reaching it', async () => {
    await provider('PUT', '/faults', { errorRate: 1 });
    let trippedAfter = 0;
    while ((await payment('GET', '/breakers')).body.provider.breaker.state !== 'open') {
      expect(++trippedAfter).toBeLessThanOrEqual(4);
      const failed = await payment('POST', `/payments/${fresh()}/charge`, { amount: 100 });
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('PROVIDER_UNAVAILABLE');
    }
    const breakers = (await payment('GET', '/breakers')).body.provider.breaker;
    // The window still holds the successful calls of the tests before.
    expect(breakers.lastTrips.at(-1).reason).toMatch(/^opened: \d+ of \d+ calls failed \([\d.]+%\) ≥ 50% within 10 s$/);
    const reached = (await provider('GET', '/ledger?limit=1')).requests;

    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const rejected = await payment('POST', `/payments/${fresh()}/charge`, { amount: 100 });
      expect(performance.now() - started).toBeLessThan(500);
      expect(rejected.status).toBe(503);
      expect(rejected.body.code).toBe('PROVIDER_UNAVAILABLE');
      expect(rejected.body.message).toMatch(/payment provider unavailable: circuit open, retry in \d+ s/);
      const { dependency, retryAfterMs } = rejected.body.details;
      expect(dependency).toBe('provider');
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(Number(rejected.headers.get('retry-after'))).toBe(Math.ceil(retryAfterMs / 1000));
    }
    const after = await provider('GET', '/ledger?limit=1');
    expect(after.requests).toEqual(reached);
    expect((await payment('GET', '/breakers')).body.provider.breaker.rejected).toBeGreaterThanOrEqual(5);
  });

  it('should keep the provider’s ledger and failure rules across a restart of the provider', async () => {
    const before = await provider('GET', '/ledger?limit=1000');
    await providerProcess.kill('SIGKILL');
    providerProcess = await start('payment-provider');
    const after = await provider('GET', '/ledger?limit=1000');
    expect(after.totals).toEqual(before.totals);
    expect(after.charges).toEqual(before.charges);
    expect(await provider('GET', '/faults')).toMatchObject({ active: true, errorRate: 1 });
    await provider('DELETE', '/faults');
  });
});
