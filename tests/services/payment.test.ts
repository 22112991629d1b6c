import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { assign, setup } from 'xstate';
import { createNode, defineActor, readEvents, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp, listen } from '../../runtime/http/index.ts';
import { type HttpClient, type HttpPolicyOptions } from '../../runtime/resilience/index.ts';
import { createProviderClient, providerEffects } from '../../services/payment/effects.ts';
import { definePaymentActor } from '../../services/payment/machine.ts';
import { paymentAddress } from '../../services/payment/protocol.ts';
import { paymentRoutes } from '../../services/payment/routes.ts';
import { FaultInjector } from '../../services/payment-provider/faults.ts';
import { providerKeys } from '../../services/payment-provider/keys.ts';
import { Ledger } from '../../services/payment-provider/ledger.ts';
import { providerRoutes } from '../../services/payment-provider/routes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

// The provider runs in this process on a real port; every payment harness calls it over HTTP.
const providerPrefix = testPrefix('payment-provider');
const redis = createClient({ url: SHARED_REDIS });
const call = (args: string[]) => redis.sendCommand(args);
const keys = providerKeys(providerPrefix);
const providerApp = createServiceApp({ name: 'provider', log: () => {} }).use(
  providerRoutes({ ledger: new Ledger(call, keys), faults: new FaultInjector(call, keys) }),
);
let providerUrl = '';

const prefixes: string[] = [providerPrefix];
const nodes: MailroomNode[] = [];
const clients: HttpClient[] = [];

/** Records every message it is told, as the saga will receive the payment's replies. */
const recorder = defineActor(
  'recorder',
  setup({ types: {} as { context: { got: Record<string, unknown>[] }; events: { type: string } } }).createMachine({
    context: { got: [] },
    on: { '*': { actions: assign({ got: ({ context, event }) => [...context.got, event as Record<string, unknown>] }) } },
  }),
);

/** Quick to judge, so a test trips it in a few calls; fast retries. */
const testPolicy: HttpPolicyOptions = {
  timeoutMs: 1_000,
  attemptTimeoutMs: 300,
  retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 },
  circuitBreaker: { window: { kind: 'count', size: 20 }, minimumCalls: 4, failureRateThreshold: 50, openWait: 5_000, halfOpenProbes: 1 },
};

/** A payment node with its own key prefix and provider client (its own breaker), its routes, and a reply recorder. */
async function harness(policy: HttpPolicyOptions = testPolicy) {
  const prefix = testPrefix('payment');
  prefixes.push(prefix);
  const provider = createProviderClient({ baseUrl: providerUrl, policy });
  clients.push(provider);
  const node = await createNode({
    service: 'payment',
    actors: [definePaymentActor(providerEffects(provider))],
    keyPrefix: prefix,
    redis: SHARED_REDIS,
    partitions: 2,
  });
  const probe = await createNode({ service: 'probe', actors: [recorder], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1 });
  nodes.push(node, probe);
  const app = createServiceApp({ name: 'payment', log: () => {} }).use(paymentRoutes({ node, provider, waitMs: 4_000 }));

  async function request(method: string, path: string, body?: unknown) {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    // A host of a few letters: Elysia finds the path from the 12th character on.
    const response = await app.handle(new Request(`http://payment.test${path}`, init));
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** What the recorder `name` was told so far. */
  async function told(name: string): Promise<Record<string, any>[]> {
    return (await probe.ask<{ got: Record<string, any>[] }>(`probe/recorder/${name}`, { type: 'peek' })).context.got.filter((m) => m.type !== 'peek');
  }
  return { prefix, provider, node, request, told };
}

async function provider(method: string, path: string, body?: unknown) {
  const response = await fetch(`${providerUrl}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as any;
}
const ledgerOf = (orderId: string) => provider('GET', `/ledger?orderId=${orderId}`);

let seq = 0;
const fresh = () => `ord-${process.pid}-${++seq}`;

beforeAll(async () => {
  await redis.connect();
  providerUrl = listen(providerApp, 0).url.origin;
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const c of clients) c.dispose();
  await providerApp.stop(true);
  await redis.quit();
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('payment routes', () => {
  it('should reject bad input on every route with the documented error', async () => {
    const { request } = await harness();
    const cases: [string, string, unknown, number, string, string][] = [
      ['GET', '/payments/-starts-with-dash', undefined, 422, 'VALIDATION', 'params.orderId is invalid'],
      ['GET', `/payments/${'x'.repeat(129)}`, undefined, 422, 'VALIDATION', 'params.orderId is invalid'],
      ['GET', '/payments/never-charged', undefined, 404, 'PAYMENT_NOT_FOUND', 'no payment for order never-charged'],
      ['POST', '/payments/ord-1/charge', {}, 422, 'VALIDATION', 'body.amount is required'],
      ['POST', '/payments/ord-1/charge', { amount: 0 }, 422, 'VALIDATION', 'body.amount is invalid'],
      ['POST', '/payments/ord-1/charge', { amount: -100 }, 422, 'VALIDATION', 'body.amount is invalid'],
      ['POST', '/payments/ord-1/charge', { amount: 12.5 }, 422, 'VALIDATION', 'body.amount is invalid'],
      ['POST', '/payments/ord-1/charge', { amount: 2_000_000_000 }, 422, 'VALIDATION', 'body.amount is invalid'],
      ['POST', '/payments/ord-1/charge', '{"amount": ', 400, 'MALFORMED_JSON', ''],
      ['POST', '/payments/bad%20id/charge', { amount: 100 }, 422, 'VALIDATION', 'params.orderId is invalid'],
      ['POST', '/payments/bad%20id/refund', undefined, 422, 'VALIDATION', 'params.orderId is invalid'],
    ];
    for (const [method, path, body, status, code, message] of cases) {
      const answer = await request(method, path, body);
      expect({ route: `${method} ${path} ${JSON.stringify(body)}`, status: answer.status, code: answer.body.code }).toEqual({
        route: `${method} ${path} ${JSON.stringify(body)}`,
        status,
        code,
      });
      expect(answer.body.message).toContain(message);
    }
  });

  it('should show the provider breaker at GET /breakers', async () => {
    const { request } = await harness();
    const { status, body } = await request('GET', '/breakers');
    expect(status).toBe(200);
    expect(body.provider).toMatchObject({ baseUrl: providerUrl, breaker: { name: 'provider', state: 'closed', thresholds: { minimumCalls: 4 } } });
    expect(body.provider.bulkhead).toMatchObject({ active: 0, maxConcurrent: 32 });
  });
});

describe('payment charge', () => {
  it('should charge through the provider, answer the same charge on a repeat, and publish PaymentCharged', async () => {
    const { request, prefix } = await harness();
    const orderId = fresh();
    const first = await request('POST', `/payments/${orderId}/charge`, { amount: 1250 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ orderId, state: 'charged', amount: 1250, attempts: 1 });
    expect(first.body.chargeId).toStartWith('ch_');
    const again = await request('POST', `/payments/${orderId}/charge`, { amount: 1250 });
    expect(again.body).toEqual(first.body);
    expect((await request('GET', `/payments/${orderId}`)).body).toEqual(first.body);

    const ledger = await ledgerOf(orderId);
    expect(ledger.charges).toHaveLength(1);
    expect(ledger.charges[0]).toMatchObject({ chargeId: first.body.chargeId, amount: 1250, idempotencyKey: `charge:${orderId}` });
    const events = await readEvents({ service: 'payment', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: paymentAddress(orderId) });
    expect(events.map((e) => e.type)).toEqual(['PaymentCharged']);
    expect(events[0]).toMatchObject({ orderId, chargeId: first.body.chargeId, amount: 1250 });
  });

  it('should charge once for 10 concurrent charge requests of one order', async () => {
    const { request } = await harness();
    const orderId = fresh();
    const answers = await Promise.all(Array.from({ length: 10 }, () => request('POST', `/payments/${orderId}/charge`, { amount: 990 })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body.chargeId)).size).toBe(1);
    expect(answers[0]!.body.attempts).toBe(1);
    const ledger = await ledgerOf(orderId);
    expect(ledger.charges).toHaveLength(1);
    expect(ledger.totals.charged).toBe(990);
  });

  it('should answer a decline with 402 PAYMENT_DECLINED, and not call the provider again on a repeat', async () => {
    const { request } = await harness();
    const orderId = fresh();
    const declined = await request('POST', `/payments/${orderId}/charge`, { amount: 1_500_000 });
    expect(declined.status).toBe(402);
    expect(declined.body.code).toBe('PAYMENT_DECLINED');
    expect(declined.body.message).toContain('1500000 cents is above the limit');
    const before = (await provider('GET', '/ledger?limit=1')).requests.charges;
    expect((await request('POST', `/payments/${orderId}/charge`, { amount: 1_500_000 })).status).toBe(402);
    expect((await provider('GET', '/ledger?limit=1')).requests.charges).toBe(before);
    expect((await request('GET', `/payments/${orderId}`)).body).toMatchObject({ state: 'declined', attempts: 1 });
    expect((await ledgerOf(orderId)).charges).toHaveLength(0);
  });

  it('should refuse a charge of another amount for a charged order with 409 AMOUNT_MISMATCH', async () => {
    const { request } = await harness();
    const orderId = fresh();
    await request('POST', `/payments/${orderId}/charge`, { amount: 500 });
    const other = await request('POST', `/payments/${orderId}/charge`, { amount: 700 });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('AMOUNT_MISMATCH');
    expect(other.body.message).toContain('charged 500 cents; a charge of 700 cents was refused');
    expect((await ledgerOf(orderId)).totals.charged).toBe(500);
  });

  it('should reuse the provider charge when a charge that timed out (but landed) is tried again', async () => {
    const { request } = await harness();
    const orderId = fresh();
    // Slower than the attempt timeout: the provider charges, the payment never hears it.
    await provider('PUT', '/faults', { errorRate: 0, latencyMs: { min: 400, max: 400 } });
    const failed = await request('POST', `/payments/${orderId}/charge`, { amount: 4200 });
    await provider('DELETE', '/faults');
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe('PROVIDER_UNAVAILABLE');
    expect(failed.body.message).toContain('payment provider unavailable: no answer within 300 ms');
    const landed = await waitFor('the slow charge to land at the provider', async () => (await ledgerOf(orderId)).charges[0]);

    const retried = await request('POST', `/payments/${orderId}/charge`, { amount: 4200 });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ state: 'charged', chargeId: landed.chargeId, attempts: 2 });
    expect((await ledgerOf(orderId)).charges).toHaveLength(1);
  });
});

describe('payment refund', () => {
  it('should refund a charge once, answer the same refund on a repeat, and never charge it again', async () => {
    const { request, prefix } = await harness();
    const orderId = fresh();
    await request('POST', `/payments/${orderId}/charge`, { amount: 800 });
    const refunded = await request('POST', `/payments/${orderId}/refund`);
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({ state: 'refunded', amount: 800, refunded: 800 });
    expect(refunded.body.refundId).toStartWith('re_');
    expect((await request('POST', `/payments/${orderId}/refund`)).body).toEqual(refunded.body);
    const again = await request('POST', `/payments/${orderId}/charge`, { amount: 800 });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('PAYMENT_REFUNDED');
    const ledger = await ledgerOf(orderId);
    expect(ledger.refunds).toHaveLength(1);
    expect(ledger.totals).toMatchObject({ charged: 800, refunded: 800, net: 0 });
    const events = await readEvents({ service: 'payment', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: paymentAddress(orderId) });
    expect(events.map((e) => e.type)).toEqual(['PaymentCharged', 'PaymentRefunded']);
  });

  it('should void a payment refunded before any charge, so it can never be charged', async () => {
    const { request } = await harness();
    const orderId = fresh();
    const voided = await request('POST', `/payments/${orderId}/refund`);
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({ orderId, state: 'voided', amount: 0, refunded: 0 });
    const charge = await request('POST', `/payments/${orderId}/charge`, { amount: 100 });
    expect(charge.status).toBe(409);
    expect(charge.body.code).toBe('PAYMENT_VOIDED');
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charged: 0, refunded: 0 });
  });

  it('should land a refund asked while charging right after the charge, netting to zero', async () => {
    const { request, node } = await harness({ ...testPolicy, attemptTimeoutMs: 2_000, timeoutMs: 3_000 });
    const orderId = fresh();
    await provider('PUT', '/faults', { errorRate: 0, latencyMs: { min: 250, max: 250 } });
    const charging = await node.ask(paymentAddress(orderId), { type: 'charge', orderId, amount: 3300 });
    expect(charging.state).toBe('charging');
    const [charge, refund] = await Promise.all([
      request('POST', `/payments/${orderId}/charge`, { amount: 3300 }),
      request('POST', `/payments/${orderId}/refund`),
    ]);
    await provider('DELETE', '/faults');
    expect(charge.status).toBe(200);
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ state: 'refunded', amount: 3300, refunded: 3300 });
    const ledger = await ledgerOf(orderId);
    expect(ledger.totals).toMatchObject({ charged: 3300, refunded: 3300, net: 0, charges: 1, refunds: 1 });
  });

  it('should refund the charge a failed payment did make at the provider (its outcome had timed out)', async () => {
    const { request } = await harness();
    const orderId = fresh();
    await provider('PUT', '/faults', { errorRate: 0, latencyMs: { min: 400, max: 400 } });
    expect((await request('POST', `/payments/${orderId}/charge`, { amount: 650 })).status).toBe(503);
    await provider('DELETE', '/faults');
    await waitFor('the slow charge to land at the provider', async () => (await ledgerOf(orderId)).charges[0]);
    const refunded = await request('POST', `/payments/${orderId}/refund`);
    expect(refunded.body).toMatchObject({ state: 'refunded', refunded: 650 });
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charged: 650, refunded: 650, net: 0 });
  });

  it('should void the provider key of a failed payment that charged nothing, so a late charge cannot land', async () => {
    const { request } = await harness();
    const orderId = fresh();
    await provider('PUT', '/faults', { errorRate: 1 });
    expect((await request('POST', `/payments/${orderId}/charge`, { amount: 700 })).status).toBe(503);
    await provider('DELETE', '/faults');
    const voided = await request('POST', `/payments/${orderId}/refund`);
    expect(voided.body).toMatchObject({ state: 'voided', refunded: 0 });
    const late = await provider('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 700 });
    expect(late.code).toBe('CHARGE_VOIDED');
    expect((await ledgerOf(orderId)).totals.charged).toBe(0);
  });
});

describe('payment replies to the saga', () => {
  it('should tell replyTo charged, refunded and a repeat with its own commandId', async () => {
    const { node, told } = await harness();
    const orderId = fresh();
    const address = paymentAddress(orderId);
    await node.send(address, { type: 'charge', orderId, amount: 2100, replyTo: 'probe/recorder/saga-1', commandId: 'c1' });
    const [charged] = await waitFor('payment.charged', async () => ((await told('saga-1')).length ? told('saga-1') : null));
    expect(charged).toEqual({ type: 'payment.charged', orderId, commandId: 'c1', chargeId: expect.stringMatching(/^ch_/), amount: 2100 });

    await node.send(address, { type: 'charge', orderId, amount: 2100, replyTo: 'probe/recorder/saga-1', commandId: 'c2' });
    await node.send(address, { type: 'refund', orderId, replyTo: 'probe/recorder/saga-1', commandId: 'c3' });
    const all = await waitFor('the repeat and the refund', async () => {
      const got = await told('saga-1');
      return got.length >= 3 ? got : null;
    });
    expect(all[1]).toEqual({ ...charged, commandId: 'c2' });
    expect(all[2]).toEqual({ type: 'payment.refunded', orderId, commandId: 'c3', refundId: expect.stringMatching(/^re_/), amount: 2100 });
    expect((await ledgerOf(orderId)).totals).toMatchObject({ charges: 1, refunds: 1, net: 0 });
  });

  it('should refuse a charge command with an invalid amount without leaving idle or calling the provider', async () => {
    const { node } = await harness();
    const orderId = fresh();
    const before = (await provider('GET', '/ledger?limit=1')).requests.total;
    const asked = await node.ask(paymentAddress(orderId), { type: 'charge', orderId, amount: 12.5 });
    expect(asked.state).toBe('idle');
    expect(asked.reply).toMatchObject({ type: 'payment.failed', code: 'INVALID_AMOUNT', retryable: false });
    expect((asked.reply as { reason: string }).reason).toContain('got 12.5');
    await Bun.sleep(50);
    expect((await provider('GET', '/ledger?limit=1')).requests.total).toBe(before);
    expect((await node.read(paymentAddress(orderId)))?.state).toBe('idle');
  });

  it('should tell a decline as not retryable and an open breaker as retryable, naming the cause', async () => {
    const { node, told, request } = await harness();
    const declinedOrder = fresh();
    await node.send(paymentAddress(declinedOrder), { type: 'charge', orderId: declinedOrder, amount: 2_000_000, replyTo: 'probe/recorder/saga-2', commandId: 'd1' });
    const [declined] = await waitFor('payment.failed (declined)', async () => ((await told('saga-2')).length ? told('saga-2') : null));
    expect(declined).toMatchObject({ type: 'payment.failed', orderId: declinedOrder, commandId: 'd1', retryable: false, code: 'PAYMENT_DECLINED' });
    expect(declined!.reason).toContain('card declined');

    await provider('PUT', '/faults', { errorRate: 1 });
    // Two charges of two attempts each fill the window (4 calls, all failed): the breaker opens.
    for (let i = 0; i < 2; i++) await request('POST', `/payments/${fresh()}/charge`, { amount: 100 });
    await provider('DELETE', '/faults');
    expect((await request('GET', '/breakers')).body.provider.breaker.state).toBe('open');

    const blocked = fresh();
    await node.send(paymentAddress(blocked), { type: 'charge', orderId: blocked, amount: 100, replyTo: 'probe/recorder/saga-3', commandId: 'u1' });
    const [failed] = await waitFor('payment.failed (unavailable)', async () => ((await told('saga-3')).length ? told('saga-3') : null));
    expect(failed).toMatchObject({ type: 'payment.failed', orderId: blocked, commandId: 'u1', retryable: true, code: 'PROVIDER_UNAVAILABLE' });
    expect(failed!.reason).toMatch(/^payment provider unavailable: circuit open, retry in \d+ s$/);
    expect(failed!.retryAfterMs).toBeGreaterThan(0);
  });

  it('finding 12: should tell a refund failed on an open breaker as retryable with retryAfterMs, and echo the commandId', async () => {
    const { node, told, request } = await harness();
    const orderId = fresh();
    const address = paymentAddress(orderId);
    await node.send(address, { type: 'charge', orderId, amount: 700, replyTo: 'probe/recorder/saga-4', commandId: 'o/chargePayment/1' });
    await waitFor('payment.charged', async () => ((await told('saga-4')).length ? told('saga-4') : null));

    await provider('PUT', '/faults', { errorRate: 1 });
    for (let i = 0; i < 2; i++) await request('POST', `/payments/${fresh()}/charge`, { amount: 100 });
    await provider('DELETE', '/faults');
    expect((await request('GET', '/breakers')).body.provider.breaker.state).toBe('open');

    await node.send(address, { type: 'refund', orderId, replyTo: 'probe/recorder/saga-4', commandId: 'o/chargePayment:undo/0.1' });
    const [, failed] = await waitFor('payment.refundFailed', async () => {
      const got = await told('saga-4');
      return got.length >= 2 ? got : null;
    });
    expect(failed).toMatchObject({ type: 'payment.refundFailed', orderId, commandId: 'o/chargePayment:undo/0.1', retryable: true });
    expect(failed!.reason).toMatch(/circuit open, retry in \d+ s/);
    // what the saga waits before asking again, rather than using up its attempts against the open breaker
    expect(failed!.retryAfterMs).toBeGreaterThan(0);
    expect(failed!.retryAfterMs).toBeLessThanOrEqual(5_000);
  });
});
