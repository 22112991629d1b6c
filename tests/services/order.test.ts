/**
 * The order service against a real node on the shared Redis: the routes in-process (`app.handle`), and the order
 * actor's protocol as the saga will use it (confirm/cancel with replyTo and commandId, idempotent repeats).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, readEvents, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { orderActor } from '../../services/order/machine.ts';
import { orderRoutes } from '../../services/order/routes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

/** Stands in for a saga: keeps every message told to it. */
const probe = defineActor(
  'probe',
  setup({ types: {} as { context: { received: any[] }; events: { type: string } } }).createMachine({
    context: { received: [] },
    on: { '*': { actions: assign({ received: ({ context, event }) => [...context.received, event] }) } },
  }),
);

const prefix = testPrefix('order');
let node: MailroomNode;
let app: ReturnType<typeof build>;
const build = (n: MailroomNode) => createServiceApp({ name: 'order', log: () => {} }).use(orderRoutes(n));

beforeAll(async () => {
  node = await createNode({ service: 'order', actors: [orderActor, probe], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  app = build(node);
});
afterAll(async () => {
  await node?.stop();
  await cleanupPrefix(prefix);
});

const order = (overrides: Record<string, unknown> = {}) => ({
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  lines: [
    { sku: 'KB-01', qty: 2, price: 4_999 },
    { sku: 'MS-02', qty: 1, price: 2_500 },
  ],
  address: { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' },
  ...overrides,
});
const post = (body: unknown) =>
  app.handle(new Request('http://localhost/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
const get = (path: string) => app.handle(new Request(`http://localhost${path}`));
let seq = 0;
const uniqueId = (name: string) => `${name}-${process.pid}-${seq++}`;

describe('order routes', () => {
  it('should create a pending order with its total computed, and publish OrderCreated', async () => {
    const orderId = uniqueId('create');
    const res = await post(order({ orderId }));
    expect(res.status).toBe(201);
    const view = (await res.json()) as any;
    expect(view).toMatchObject({ orderId, state: 'pending', total: 2 * 4_999 + 2_500, customer: { email: 'ada@example.com' } });
    expect(view.createdAt).toBeGreaterThan(0);
    const events = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(events.map((e) => e.type)).toEqual(['OrderCreated']);
    expect(events[0]).toMatchObject({ orderId, total: 12_498, lines: view.lines, address: view.address });
  });

  it('should generate an order id when none is given', async () => {
    const res = await post(order());
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).orderId).toMatch(/^ord-[0-9a-f]{32}$/);
  });

  it('should answer a repeated create with the same order (200) and refuse the same id with other content (409)', async () => {
    const orderId = uniqueId('idem');
    const first = (await (await post(order({ orderId }))).json()) as any;
    const again = await post(order({ orderId }));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    const other = await post(order({ orderId, lines: [{ sku: 'KB-01', qty: 9, price: 4_999 }] }));
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: 'ORDER_ID_TAKEN' });
    const events = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(events).toHaveLength(1);
  });

  it('should reject an empty body with 422 naming the missing fields', async () => {
    const res = await post({});
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.code).toBe('VALIDATION');
    expect(body.message).toContain('body.customer is required');
    expect(body.message).toContain('body.lines is required');
    expect(body.message).toContain('body.address is required');
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['no lines', { lines: [] }, 'body.lines'],
    ['51 lines', { lines: Array.from({ length: 51 }, () => ({ sku: 'KB-01', qty: 1, price: 1 })) }, 'body.lines'],
    ['qty 0', { lines: [{ sku: 'KB-01', qty: 0, price: 1 }] }, 'body.lines.0.qty'],
    ['qty 1001', { lines: [{ sku: 'KB-01', qty: 1001, price: 1 }] }, 'body.lines.0.qty'],
    ['a negative price', { lines: [{ sku: 'KB-01', qty: 1, price: -1 }] }, 'body.lines.0.price'],
    ['a fractional price', { lines: [{ sku: 'KB-01', qty: 1, price: 9.99 }] }, 'body.lines.0.price'],
    ['a lower-case sku', { lines: [{ sku: 'kb-01', qty: 1, price: 1 }] }, 'body.lines.0.sku'],
    ['a bad email', { customer: { name: 'Ada', email: 'not-an-email' } }, 'body.customer.email'],
    ['a lower-case country', { address: { name: 'A', line1: 'B', city: 'C', country: 'gb' } }, 'body.address.country'],
    ['a bad order id', { orderId: 'has spaces' }, 'body.orderId'],
  ];
  for (const [what, overrides, field] of invalid) {
    it(`should reject ${what} with 422 naming ${field}`, async () => {
      const res = await post(order(overrides));
      expect(res.status).toBe(422);
      const body = (await res.json()) as any;
      expect(body.code).toBe('VALIDATION');
      expect(body.message).toContain(field);
    });
  }

  it('should reject a total over the cap with 422 TOTAL_TOO_LARGE', async () => {
    const res = await post(order({ lines: [{ sku: 'GOLD-1', qty: 1000, price: 200_000 }] }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'TOTAL_TOO_LARGE', details: { total: 200_000_000, limit: 100_000_000 } });
  });

  it('should answer an unknown order with 404 ORDER_NOT_FOUND and a malformed id with 422', async () => {
    const missing = await get('/orders/nobody-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ORDER_NOT_FOUND', message: 'no order nobody-here' });
    const bad = await get(`/orders/${'x'.repeat(80)}`);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).message).toContain('params.id');
  });

  it('should reject bad list queries: limit out of range, an unknown state, a forged cursor', async () => {
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'state=shipped']) {
      const res = await get(`/orders?${q}`);
      expect(res.status).toBe(422);
      expect(((await res.json()) as any).message).toContain(`query.${q.split('=')[0]} is invalid`);
    }
    const forged = await get('/orders?cursor=not-ours');
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ code: 'INVALID_CURSOR' });
  });
});

describe('order list', () => {
  it('should page through every order once, and filter by state', async () => {
    const own = testPrefix('order-list');
    const n = await createNode({ service: 'order', actors: [orderActor], keyPrefix: own, redis: SHARED_REDIS, partitions: 3 });
    try {
      const a = build(n);
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const orderId of ids) {
        await a.handle(new Request('http://localhost/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order({ orderId })) }));
      }
      await n.ask('order/order/list-3', { type: 'cancel', reason: 'customer changed their mind' });
      await n.ask('order/order/list-5', { type: 'confirm' });
      await n.ask('order/order/never-created', { type: 'confirm' });

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await a.handle(new Request(`http://localhost/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: { orderId: string }[]; cursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.orderId));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen.sort()).toEqual(ids.sort());

      const cancelled = (await (await a.handle(new Request('http://localhost/orders?state=cancelled'))).json()) as any;
      expect(cancelled.items.map((i: any) => [i.orderId, i.reason])).toEqual([['list-3', 'customer changed their mind']]);
      const confirmed = (await (await a.handle(new Request('http://localhost/orders?state=confirmed'))).json()) as any;
      expect(confirmed.items.map((i: any) => i.orderId)).toEqual(['list-5']);
    } finally {
      await n.stop();
      await cleanupPrefix(own);
    }
  });
});

describe('order actor', () => {
  const create = async (orderId: string) => {
    const res = await post(order({ orderId }));
    expect(res.status).toBe(201);
  };

  it('should confirm once, telling replyTo order.confirmed with the commandId, and answer a repeat the same', async () => {
    const orderId = uniqueId('confirm');
    await create(orderId);
    const replyTo = `order/probe/${orderId}`;
    const first = await node.ask(`order/order/${orderId}`, { type: 'confirm', replyTo, commandId: 'c-1' });
    expect(first.state).toBe('confirmed');
    expect(first.reply).toEqual({ type: 'order.confirmed', orderId, commandId: 'c-1' });
    const again = await node.ask(`order/order/${orderId}`, { type: 'confirm', replyTo, commandId: 'c-2' });
    expect(again.reply).toEqual({ type: 'order.confirmed', orderId, commandId: 'c-2' });
    // A cancel after the confirmation cannot undo it: the answer is the outcome that stands.
    const late = await node.ask(`order/order/${orderId}`, { type: 'cancel', reason: 'too late', replyTo, commandId: 'c-3' });
    expect(late.state).toBe('confirmed');
    expect(late.reply).toMatchObject({ type: 'order.confirmed', commandId: 'c-3' });

    const told = await node.waitFor<{ received: any[] }>(replyTo, (v) => v.context.received.length >= 3);
    expect(told.context.received.map((m) => [m.type, m.commandId])).toEqual([
      ['order.confirmed', 'c-1'],
      ['order.confirmed', 'c-2'],
      ['order.confirmed', 'c-3'],
    ]);
    const events = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(events.map((e) => e.type)).toEqual(['OrderCreated', 'OrderConfirmed']);
  });

  it('should cancel with the reason, show it in the view, and answer a later confirm with order.cancelled', async () => {
    const orderId = uniqueId('cancel');
    await create(orderId);
    const replyTo = `order/probe/${orderId}`;
    const cancelled = await node.ask(`order/order/${orderId}`, { type: 'cancel', reason: 'payment declined', replyTo, commandId: 'k-1' });
    expect(cancelled.reply).toEqual({ type: 'order.cancelled', orderId, commandId: 'k-1', reason: 'payment declined' });
    const confirm = await node.ask(`order/order/${orderId}`, { type: 'confirm', replyTo, commandId: 'k-2' });
    expect(confirm.state).toBe('cancelled');
    expect(confirm.reply).toMatchObject({ type: 'order.cancelled', reason: 'payment declined' });
    const view = (await (await get(`/orders/${orderId}`)).json()) as any;
    expect(view).toMatchObject({ state: 'cancelled', reason: 'payment declined' });
    expect(view.updatedAt).toBeGreaterThanOrEqual(view.createdAt);
    await node.waitFor<{ received: any[] }>(replyTo, (v) => v.context.received.length >= 2);
    const events = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(events.map((e) => e.type)).toEqual(['OrderCreated', 'OrderCancelled']);
  });

  it('should answer a create sent by a saga with order.created to replyTo, created only the first time', async () => {
    const orderId = uniqueId('saga-create');
    const replyTo = `order/probe/${orderId}`;
    const { customer, lines, address } = order();
    const command = { type: 'create', orderId, customer, lines, address, total: 12_498, replyTo };
    const first = await node.ask(`order/order/${orderId}`, { ...command, commandId: 's-1' });
    expect(first.reply).toEqual({ type: 'order.created', orderId, commandId: 's-1', created: true });
    const again = await node.ask(`order/order/${orderId}`, { ...command, commandId: 's-2' });
    expect(again.reply).toEqual({ type: 'order.created', orderId, commandId: 's-2', created: false });
    const told = await node.waitFor<{ received: any[] }>(replyTo, (v) => v.context.received.length >= 2);
    expect(told.context.received.map((m) => [m.type, m.commandId, m.created])).toEqual([
      ['order.created', 's-1', true],
      ['order.created', 's-2', false],
    ]);
  });

  it('should not conjure an order from a confirm sent before it was created', async () => {
    const orderId = uniqueId('ghost');
    const res = await node.ask(`order/order/${orderId}`, { type: 'confirm', commandId: 'g-1' });
    expect(res.state).toBe('draft');
    expect((await get(`/orders/${orderId}`)).status).toBe(404);
  });

  it('should cancel a draft (a compensated create that timed out), so a late create changes nothing', async () => {
    const orderId = uniqueId('early-cancel');
    const res = await node.ask(`order/order/${orderId}`, { type: 'cancel', reason: 'create timed out', commandId: 'e-1' });
    expect(res.state).toBe('cancelled');
    expect(res.reply).toEqual({ type: 'order.cancelled', orderId, commandId: 'e-1', reason: 'create timed out' });
    const late = await post(order({ orderId }));
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'ORDER_ID_TAKEN' });
    expect((await get(`/orders/${orderId}`)).status).toBe(404);
    const events = await readEvents({ service: 'order', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: `order/order/${orderId}` });
    expect(events).toHaveLength(0);
  });
});
