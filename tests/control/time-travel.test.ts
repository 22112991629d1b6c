/**
 * Time travel through the control API over the real shop (its processes on free ports, a test key prefix) and the
 * control routes in-process on the same Redis: a placed order's fulfillment saga lists every version it committed,
 * `…/at/1` is its first committed snapshot (what the inspection stream saw its first turn leave), the newest is what
 * the actor reads now, and a version outside the history is a 404 that names the versions held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupPrefix, testPrefix, waitFor } from '../helpers/redis.ts';
import { startShop, type Shop } from '../helpers/shop.ts';
import { controlApp } from './helpers.ts';

const prefix = testPrefix('control-time-travel');
let shop: Shop;
let control: Awaited<ReturnType<typeof controlApp>>;

beforeAll(async () => {
  shop = await startShop(prefix);
  control = await controlApp({ prefix });
}, 30_000);
afterAll(async () => {
  await control?.close();
  await shop?.close();
  await cleanupPrefix(prefix);
});

async function placeOrder(): Promise<string> {
  const res = await fetch(shop.url('gateway', '/api/orders'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-1` },
    body: JSON.stringify({
      customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
      lines: [{ sku: 'BOX-M', qty: 1 }],
      address: { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: string }).orderId;
}

describe('GET /control/actors/:address/history and …/at/:version', () => {
  it('should list every version of a saga, rebuild version 1 as its first committed snapshot and the newest as its state now', async () => {
    const orderId = await placeOrder();
    const saga = `order/fulfillment/${orderId}`;
    const now = await waitFor('the saga to finish', async () => {
      const { status, body } = await control.json('GET', `/control/actors/${saga}`);
      return status === 200 && ['completed', 'compensated'].includes(body.context?.status) ? body : null;
    }, 30_000);

    const { status, body: history } = await control.json('GET', `/control/actors/${saga}/history?limit=500`);
    expect(status).toBe(200);
    // every version, newest first, none missing
    expect(history.newest).toBe(now.version);
    expect(history.oldest).toBe(1);
    expect(history.total).toBe(now.version);
    expect(history.items.map((v: { version: number }) => v.version)).toEqual([...Array(now.version).keys()].map((i) => now.version - i));
    for (const v of history.items) expect(v.causes.length).toBeGreaterThan(0);
    // some versions were made by another actor's reply, and say who sent it
    expect(history.items.some((v: { causes: { from?: string }[] }) => v.causes.some((c) => c.from && c.from !== saga))).toBe(true);

    const first = await control.json('GET', `/control/actors/${saga}/at/1`);
    expect(first.status).toBe(200);
    expect(first.body.version).toBe(1);
    expect(first.body).toMatchObject(history.items.at(-1));
    // the inspection stream saw the first turn leave the same state, made by the same message (a node writes it in
    // batches up to ~100 ms after the commit: a saga that finished sooner may not have it there yet)
    const firstTurn = await waitFor('the saga\'s first transition on the inspection stream', async () => {
      const { body: events } = await control.json('GET', `/control/events?limit=1000`);
      return events.find((e: any) => e.type === 'actor.transition' && e.actor === saga) ?? null;
    }, 5_000);
    expect(first.body.causes.map((c: { id: string }) => c.id)).toContain(firstTurn.messageId);
    expect(first.body.causes.at(-1).type).toBe(history.items.at(-1).causes.at(-1).type);

    const newest = await control.json('GET', `/control/actors/${saga}/at/${now.version}`);
    expect(newest.body.state).toEqual(now.state);
    expect(newest.body.context).toEqual(now.context);
    expect(newest.body.machineVersion).toBe(now.machineVersion);

    // paging: the second page starts where the first stopped
    const page = await control.json('GET', `/control/actors/${saga}/history?offset=1&limit=2`);
    expect(page.body.items.map((v: { version: number }) => v.version)).toEqual([now.version - 1, now.version - 2]);

    const beyond = await control.json('GET', `/control/actors/${saga}/at/${now.version + 1}`);
    expect(beyond.status).toBe(404);
    expect(beyond.body.code).toBe('VERSION_NOT_FOUND');
    expect(beyond.body.message).toContain(`versions 1–${now.version}`);
    expect((await control.json('GET', `/control/actors/${saga}/at/0`)).status).toBe(422);
    expect((await control.json('GET', `/control/actors/${saga}/history?limit=0`)).status).toBe(422);
  }, 60_000);

  it('should answer an empty history for an actor never seen, and 404 for its versions and for an unknown service', async () => {
    const none = await control.json('GET', '/control/actors/order/fulfillment/nobody/history');
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ items: [], total: 0, newest: null, oldest: null });
    const at = await control.json('GET', '/control/actors/order/fulfillment/nobody/at/1');
    expect(at.status).toBe(404);
    expect(at.body.message).toContain('holds no version');
    expect((await control.json('GET', '/control/actors/nosuch/thing/x/history')).body.code).toBe('UNKNOWN_SERVICE');
  });
});
