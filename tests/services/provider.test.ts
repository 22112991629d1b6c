import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createServiceApp } from '../../runtime/http/index.ts';
import { seededRandom } from '../../runtime/index.ts';
import { FaultInjector } from '../../services/payment-provider/faults.ts';
import { providerKeys } from '../../services/payment-provider/keys.ts';
import { Ledger } from '../../services/payment-provider/ledger.ts';
import { providerRoutes } from '../../services/payment-provider/routes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('provider');
const redis = createClient({ url: SHARED_REDIS });
const call = (args: string[]) => redis.sendCommand(args);

/** A provider app on the test prefix; two of them share one ledger, as a restarted provider would. */
function providerApp() {
  const keys = providerKeys(prefix);
  return createServiceApp({ name: 'provider', log: () => {} }).use(
    providerRoutes({ ledger: new Ledger(call, keys), faults: new FaultInjector(call, keys, { random: seededRandom(7) }) }),
  );
}
const app = providerApp();

type Answer = { status: number; body: any };
async function request(method: string, path: string, body?: unknown, target = app): Promise<Answer> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await target.handle(new Request(`http://provider${path}`, init));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

let seq = 0;
const fresh = (name: string) => `${name}-${++seq}`;

beforeAll(async () => {
  await redis.connect();
});
afterAll(async () => {
  await request('DELETE', '/faults');
  await redis.quit();
  await cleanupPrefix(prefix);
});

describe('provider routes', () => {
  it('should reject bad input on every route with 422 VALIDATION naming the field, and malformed JSON with 400', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/charges', {}, 'body.idempotencyKey is required'],
      ['POST', '/charges', { idempotencyKey: 'k', orderId: 'o1' }, 'body.amount is required'],
      ['POST', '/charges', { idempotencyKey: 'k', orderId: 'o1', amount: 0 }, 'body.amount is invalid'],
      ['POST', '/charges', { idempotencyKey: 'k', orderId: 'o1', amount: 12.5 }, 'body.amount is invalid'],
      ['POST', '/charges', { idempotencyKey: 'k', orderId: 'has space', amount: 100 }, 'body.orderId is invalid'],
      ['POST', '/charges', { idempotencyKey: '', orderId: 'o1', amount: 100 }, 'body.idempotencyKey is invalid'],
      ['POST', '/refunds', { idempotencyKey: 'k', amount: 100 }, 'body.chargeId is required'],
      ['POST', '/refunds', { idempotencyKey: 'k', chargeId: 'ch_1', amount: -5 }, 'body.amount is invalid'],
      ['POST', '/voids', {}, 'body.idempotencyKey is required'],
      ['GET', '/ledger?limit=0', undefined, 'query.limit is invalid: expected an integer from 1 to 1000, got 0'],
      ['GET', '/ledger?limit=1001', undefined, 'query.limit is invalid'],
      ['GET', '/ledger?limit=abc', undefined, 'query.limit is invalid'],
      ['PUT', '/faults', { errorRate: 1.5 }, 'body.errorRate is invalid'],
      ['PUT', '/faults', {}, 'body.errorRate is required'],
      ['PUT', '/faults', { errorRate: 0.5, latencyMs: { min: 10 } }, 'body.latencyMs.max is required'],
      ['PUT', '/faults', { errorRate: 0.5, durationMs: 0 }, 'body.durationMs is invalid'],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await request(method, path, body);
      expect({ route: `${method} ${path} ${JSON.stringify(body)}`, status: answer.status, code: answer.body.code }).toEqual({
        route: `${method} ${path} ${JSON.stringify(body)}`,
        status: 422,
        code: 'VALIDATION',
      });
      expect(answer.body.message).toContain(message);
    }
    const malformed = await request('POST', '/charges', '{"idempotencyKey": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('MALFORMED_JSON');
    const inverted = await request('PUT', '/faults', { errorRate: 0.1, latencyMs: { min: 500, max: 100 } });
    expect(inverted.status).toBe(422);
    expect(inverted.body).toMatchObject({ code: 'INVALID_FAULTS' });
    expect(inverted.body.message).toContain('latencyMs.min (500) is above latencyMs.max (100)');
  });

  it('should answer 400 to an idempotency key holding a lone surrogate, and charge a key with a well-formed pair', async () => {
    // Found by the bad-input barrage. Such a key reached Redis as UTF-8, where it is U+FFFD: every lone-surrogate key
    // was the same key, so the second charged with one met the first's charge — and the ledger script's cjson refused
    // the escape in that charge's JSON, a 500. Two different keys, two different amounts: both refused now.
    const orderId = fresh('order');
    for (const [unit, amount] of [['\\udfff', 2076], ['\\ud800', 999]] as const) {
      const lone = await request('POST', '/charges', `{"idempotencyKey":"${unit}","orderId":"${orderId}","amount":${amount}}`);
      expect({ unit, status: lone.status, code: lone.body.code }).toEqual({ unit, status: 400, code: 'MALFORMED_JSON' });
      expect(lone.body.message).toContain(`body.idempotencyKey holds a lone surrogate (${unit})`);
      expect(lone.body.details).toEqual({ path: 'body.idempotencyKey', in: 'value' });
    }
    const paired = await request('POST', '/charges', `{"idempotencyKey":"k-\\ud83d\\ude00-${orderId}","orderId":"${orderId}","amount":2076}`);
    expect(paired.status).toBe(201);
    expect(paired.body).toMatchObject({ idempotencyKey: `k-\u{1f600}-${orderId}`, amount: 2076 });
  });
});

describe('provider charges', () => {
  it('should charge once per idempotency key: 201 first, 200 with the same charge after, one ledger entry', async () => {
    const orderId = fresh('order');
    const charge = { idempotencyKey: `charge:${orderId}`, orderId, amount: 1250 };
    const first = await request('POST', '/charges', charge);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ orderId, amount: 1250, status: 'succeeded' });
    expect(first.body.chargeId).toStartWith('ch_');
    const again = await request('POST', '/charges', charge);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const ledger = await request('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.body.charges).toHaveLength(1);
    expect(ledger.body.totals).toMatchObject({ charged: 1250, refunded: 0, net: 1250, charges: 1 });
  });

  it('should make exactly one charge for 20 concurrent requests with one key', async () => {
    const orderId = fresh('order');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 990 })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.chargeId)).size).toBe(1);
    const ledger = await request('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.body.charges).toHaveLength(1);
    expect(ledger.body.totals.charged).toBe(990);
  });

  it('should refuse a key reused for another amount with 409 IDEMPOTENCY_CONFLICT, charging nothing more', async () => {
    const orderId = fresh('order');
    await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 500 });
    const reused = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 700 });
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(reused.body.message).toContain('already charged 500 cents');
    expect((await request('GET', `/ledger?orderId=${orderId}`)).body.totals.charged).toBe(500);
  });

  it('should decline a charge above 1,000,000 cents with 402 CARD_DECLINED and no ledger entry', async () => {
    const orderId = fresh('order');
    const declined = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 1_000_001 });
    expect(declined.status).toBe(402);
    expect(declined.body.code).toBe('CARD_DECLINED');
    expect(declined.body.message).toContain('1000001 cents is above the limit of 1000000 cents');
    expect((await request('GET', `/ledger?orderId=${orderId}`)).body.charges).toHaveLength(0);
    const atLimit = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}:b`, orderId, amount: 1_000_000 });
    expect(atLimit.status).toBe(201);
  });
});

describe('provider refunds', () => {
  it('should refund once per key, never beyond the charge, and 404 an unknown charge', async () => {
    const orderId = fresh('order');
    const { body: charge } = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 1000 });

    const unknown = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:x`, chargeId: 'ch_nope', amount: 10 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('CHARGE_NOT_FOUND');

    const tooMuch = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:a`, chargeId: charge.chargeId, amount: 1001 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body).toMatchObject({ code: 'REFUND_EXCEEDS_CHARGE', details: { charged: 1000, alreadyRefunded: 0, requested: 1001 } });

    const part = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:b`, chargeId: charge.chargeId, amount: 600 });
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({ chargeId: charge.chargeId, orderId, amount: 600 });
    const repeat = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:b`, chargeId: charge.chargeId, amount: 600 });
    expect(repeat.status).toBe(200);
    expect(repeat.body.refundId).toBe(part.body.refundId);

    const beyond = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:c`, chargeId: charge.chargeId, amount: 401 });
    expect(beyond.status).toBe(409);
    expect(beyond.body.message).toContain('at most 400 remain');
    const rest = await request('POST', '/refunds', { idempotencyKey: `refund:${orderId}:d`, chargeId: charge.chargeId, amount: 400 });
    expect(rest.status).toBe(201);

    const ledger = await request('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.body.refunds).toHaveLength(2);
    expect(ledger.body.charges[0].refunded).toBe(1000);
    expect(ledger.body.totals).toMatchObject({ charged: 1000, refunded: 1000, net: 0 });
  });

  it('should make one refund for 10 concurrent requests with one key', async () => {
    const orderId = fresh('order');
    const { body: charge } = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 300 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => request('POST', '/refunds', { idempotencyKey: `refund:${orderId}`, chargeId: charge.chargeId, amount: 300 })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect((await request('GET', `/ledger?orderId=${orderId}`)).body.totals).toMatchObject({ refunded: 300, net: 0, refunds: 1 });
  });
});

describe('provider voids', () => {
  it('should block a key that holds no charge, so a late charge with it is refused with 409 CHARGE_VOIDED', async () => {
    const orderId = fresh('order');
    const voided = await request('POST', '/voids', { idempotencyKey: `charge:${orderId}` });
    expect(voided.status).toBe(201);
    expect(voided.body).toMatchObject({ idempotencyKey: `charge:${orderId}`, outcome: 'voided' });
    expect((await request('POST', '/voids', { idempotencyKey: `charge:${orderId}` })).status).toBe(200);
    const late = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('CHARGE_VOIDED');
    expect((await request('GET', `/ledger?orderId=${orderId}`)).body.charges).toHaveLength(0);
  });

  it('should answer the charge a key holds instead of voiding it', async () => {
    const orderId = fresh('order');
    const { body: charge } = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 450 });
    const answer = await request('POST', '/voids', { idempotencyKey: `charge:${orderId}` });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ idempotencyKey: `charge:${orderId}`, outcome: 'charged', charge });
  });
});

describe('provider failure injection', () => {
  it('should answer 503 INJECTED_FAULT before touching the ledger, and count every card request it received', async () => {
    const orderId = fresh('order');
    const before = (await request('GET', '/ledger')).body.requests;
    const set = await request('PUT', '/faults', { errorRate: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ active: true, errorRate: 1 });
    expect((await request('GET', '/faults')).body).toMatchObject({ active: true, errorRate: 1 });
    for (let i = 0; i < 3; i++) {
      const failed = await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 });
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('INJECTED_FAULT');
      expect(failed.body.message).toContain('DELETE /faults');
    }
    const ledger = await request('GET', `/ledger?orderId=${orderId}`);
    expect(ledger.body.charges).toHaveLength(0);
    expect(ledger.body.requests.charges - before.charges).toBe(3);
    expect(ledger.body.requests.injectedFaults - before.injectedFaults).toBe(3);

    expect((await request('DELETE', '/faults')).body).toEqual({ active: false, errorRate: 0 });
    expect((await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 })).status).toBe(201);
  });

  it('should keep the rules in Redis, where another provider instance (a restart) finds them, until they expire', async () => {
    await request('PUT', '/faults', { errorRate: 1, durationMs: 300 });
    const restarted = providerApp();
    const rules = (await request('GET', '/faults', undefined, restarted)).body;
    expect(rules).toMatchObject({ active: true, errorRate: 1 });
    expect(rules.expiresAt - rules.setAt).toBe(300);
    const orderId = fresh('order');
    expect((await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 }, restarted)).status).toBe(503);
    await Bun.sleep(350);
    expect((await request('GET', '/faults')).body.active).toBe(false);
    expect((await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 }, restarted)).status).toBe(201);
  });

  it('should add the configured latency to card requests, and only some errors at a partial rate', async () => {
    await request('PUT', '/faults', { errorRate: 0, latencyMs: { min: 120, max: 150 } });
    const orderId = fresh('order');
    const started = performance.now();
    expect((await request('POST', '/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: 100 })).status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    const ledgerStarted = performance.now();
    await request('GET', '/ledger?limit=1');
    expect(performance.now() - ledgerStarted).toBeLessThan(100);

    await request('PUT', '/faults', { errorRate: 0.5 });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => request('POST', '/voids', { idempotencyKey: `void:${orderId}:${i}` }).then((a) => a.status)),
    );
    const failed = statuses.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
    await request('DELETE', '/faults');
  });
});

describe('provider ledger', () => {
  it('should list the newest entries up to the limit with totals over the whole ledger', async () => {
    const a = fresh('order');
    const b = fresh('order');
    await request('POST', '/charges', { idempotencyKey: `charge:${a}`, orderId: a, amount: 111 });
    await request('POST', '/charges', { idempotencyKey: `charge:${b}`, orderId: b, amount: 222 });
    const ledger = (await request('GET', '/ledger?limit=2')).body;
    expect(ledger.charges.map((c: { orderId: string }) => c.orderId)).toEqual([a, b]);
    expect(ledger.totals.charges).toBeGreaterThan(2);
    expect(ledger.totals.net).toBe(ledger.totals.charged - ledger.totals.refunded);
  });
});
