/**
 * The notifications process over real processes: the shop and `services/notifications/main.ts` on the shared Redis
 * under a test prefix. Orders placed through the gateway are confirmed (London) or cancelled by compensation (Tokyo:
 * no carrier); the outbox must then hold exactly one notice of the right kind per order — also when the notifications
 * process is killed mid-stream and restarted, and when an order event reaches it twice. "Exactly one" is read from
 * the outbox itself, the `NoticeSent` events on the notifications service's log, not only from the route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, readEvents, type DomainEvent, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { noticeAddress, type Notice } from '../../services/notifications/protocol.ts';
import { startShop, type Shop } from '../helpers/shop.ts';
import { controlApp } from '../control/helpers.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('notifications');
let shop: Shop;
let redis: ReturnType<typeof createClient>;
let notices: MailroomNode;

beforeAll(async () => {
  shop = await startShop(prefix, {}, ['notifications']);
  redis = createClient({ url: SHARED_REDIS });
  await redis.connect();
  notices = await createNode({ service: 'notifications', actors: [], consume: false, keyPrefix: prefix, redis: SHARED_REDIS, inspectStream: 'off' });
}, 40_000);
afterAll(async () => {
  await notices?.stop();
  await redis?.quit();
  await shop?.close();
  await cleanupPrefix(prefix);
});

const customer = { name: 'Ada Lovelace', email: 'ada@example.com' };
const london = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' };
const tokyo = { name: 'Ada Lovelace', line1: '1-1 Chiyoda', city: 'Tokyo', country: 'JP' };

let seq = 0;
/**
 * Places an order through the gateway; returns its id. A 429 or 503 (admission control on a loaded machine) is tried
 * again after its Retry-After, as a client does, with the same Idempotency-Key.
 */
async function place(address: typeof london): Promise<string> {
  const key = `${prefix}-${seq++}`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(shop.url('gateway', '/api/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ customer, lines: [{ sku: 'BOX-M', qty: 1 }], address }),
    });
    const body = (await res.json()) as { orderId: string };
    if ((res.status === 429 || res.status === 503) && attempt < 10) {
      await Bun.sleep(Number(res.headers.get('retry-after') ?? 1) * 1_000);
      continue;
    }
    expect({ status: res.status, body }).toMatchObject({ status: 202 });
    return body.orderId;
  }
}

/** The order's state once its saga ended. */
async function settled(orderId: string): Promise<'confirmed' | 'cancelled'> {
  return waitFor(
    `order ${orderId} to settle`,
    async () => {
      const view = (await (await fetch(shop.url('gateway', `/api/orders/${orderId}`))).json()) as any;
      return ['completed', 'compensated'].includes(view.saga?.status) ? view.order.state : null;
    },
    20_000,
    50,
  );
}

/** The outbox: every `NoticeSent` event on the notifications service's log, by order id. */
async function outbox(): Promise<Map<string, Notice[]>> {
  const events = await readEvents({ service: 'notifications', keyPrefix: prefix, redis: SHARED_REDIS, count: 1_000_000 });
  const out = new Map<string, Notice[]>();
  for (const e of events.filter((e) => e.type === 'NoticeSent')) {
    const notice = e.notice as Notice;
    out.set(notice.orderId, [...(out.get(notice.orderId) ?? []), notice]);
  }
  return out;
}

const noticesOf = async (orderId: string) => {
  const res = await fetch(shop.url('notifications', `/notifications?orderId=${orderId}`));
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Notice[] }).items;
};

/** Waits until every order has its notice on the route, then checks the outbox holds exactly one of the right kind. */
async function expectOneNoticeEach(outcomes: Map<string, 'confirmed' | 'cancelled'>) {
  for (const orderId of outcomes.keys()) await waitFor(`the notice of ${orderId}`, async () => (await noticesOf(orderId)).length === 1, 20_000, 50);
  const sent = await outbox();
  for (const [orderId, state] of outcomes) {
    const kinds = (sent.get(orderId) ?? []).map((n) => n.kind);
    expect({ orderId, kinds }).toEqual({ orderId, kinds: [state === 'confirmed' ? 'confirmation' : 'cancellation'] });
    const [notice] = await noticesOf(orderId);
    expect(notice!.to).toEqual(customer);
    expect(notice!.subject).toContain(orderId);
  }
}

/** Whether the notifications group has read and acked every entry of the order log's slices. */
async function caughtUp(): Promise<boolean> {
  for (let p = 0; p < 8; p++) {
    const stream = partitionKeys(prefix, 'order', p).events;
    if (!(await redis.exists(stream))) continue;
    const groups = (await redis.xInfoGroups(stream)) as { name: string; pending: number; 'last-delivered-id': string }[];
    const group = groups.find((g) => g.name === 'notifications');
    const last = (await redis.xRevRange(stream, '+', '-', { COUNT: 1 }))?.[0];
    if (!group || group.pending > 0 || (last && last.id !== group['last-delivered-id'])) return false;
  }
  return true;
}

describe('notifications over real processes', () => {
  it('should record exactly one confirmation per confirmed order and one cancellation per cancelled one', async () => {
    const ids = await Promise.all([place(london), place(tokyo), place(london), place(tokyo)]);
    const outcomes = new Map(await Promise.all(ids.map(async (id) => [id, await settled(id)] as const)));
    expect([...outcomes.values()].sort()).toEqual(['cancelled', 'cancelled', 'confirmed', 'confirmed']);
    await expectOneNoticeEach(outcomes);
  }, 60_000);

  it('should list an order’s notice through the control plane as the notifications service answers it, and 503 when it is down', async () => {
    const [orderId] = [...(await outbox()).keys()];
    const control = await controlApp({ prefix, follow: false, origins: { notifications: shop.url('notifications', '') } });
    try {
      const direct = await (await fetch(shop.url('notifications', `/notifications?orderId=${orderId}`))).json();
      const passed = await control.json('GET', `/control/notifications?orderId=${orderId}`);
      expect(passed).toMatchObject({ status: 200, body: direct as object });
      expect((passed.body as { items: unknown[] }).items).toHaveLength(1);
      expect((await control.json('GET', '/control/notifications?limit=0')).status).toBe(422);
    } finally {
      await control.close();
    }
    // A system where no notifications instance is registered (another prefix: here, discovery would find the live one)
    // and the fixed address answers nothing.
    const nowhere = await controlApp({ prefix: `${prefix}-nowhere`, follow: false });
    try {
      const down = await nowhere.json('GET', `/control/notifications?orderId=${orderId}`);
      expect({ status: down.status, code: down.body.code }).toEqual({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    } finally {
      await nowhere.close();
    }
  });

  it('should have none for an order still pending, and answer a page of every notice', async () => {
    const none = await noticesOf('ord-never-placed');
    expect(none).toEqual([]);
    const page = (await (await fetch(shop.url('notifications', '/notifications?limit=2&kind=cancellation'))).json()) as { items: Notice[]; cursor: string | null };
    expect(page.items.length).toBe(2);
    expect(page.items.every((n) => n.kind === 'cancellation')).toBe(true);
    const bad = await fetch(shop.url('notifications', '/notifications?cursor=nonsense'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_CURSOR');
  });

  it('should still record exactly one notice per order when the process is killed mid-stream and restarted', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => place(i % 3 === 0 ? tokyo : london)));
    // Killed once the first of them has its notice, while the others are still settling or being handed on.
    await waitFor('a first notice', async () => (await outbox()).has(ids[0]!) || (await Promise.all(ids.map(noticesOf))).some((n) => n.length > 0), 20_000, 20);
    await shop.signal('notifications', 'SIGKILL');
    const outcomes = new Map(await Promise.all(ids.map(async (id) => [id, await settled(id)] as const)));
    // Down while the rest settled: their events wait in the log at the group's position.
    await shop.start('notifications');
    await expectOneNoticeEach(outcomes);
    await waitFor('the group to catch up', caughtUp, 10_000, 50);
  }, 90_000);

  it('should record one notice when an order event is delivered twice, and ignore a contradicting one', async () => {
    const orderId = await place(london);
    expect(await settled(orderId)).toBe('confirmed');
    await expectOneNoticeEach(new Map([[orderId, 'confirmed' as const]]));
    // The very same event appended to its slice again: the subscriber hands it on a second time.
    const events = await readEvents({ service: 'order', aggregate: `order/order/${orderId}`, keyPrefix: prefix, redis: SHARED_REDIS });
    const confirmed = events.find((e) => e.type === 'OrderConfirmed') as DomainEvent;
    const [partition] = confirmed.position.split(':');
    const { position: _, ...stored } = confirmed;
    const copy = await redis.xAdd(partitionKeys(prefix, 'order', Number(partition)).events, '*', { e: JSON.stringify(stored) });
    await waitFor('the copy to be read and acked', async () => {
      const groups = (await redis.xInfoGroups(partitionKeys(prefix, 'order', Number(partition)).events)) as { name: string; pending: number; 'last-delivered-id': string }[];
      const group = groups.find((g) => g.name === 'notifications')!;
      return group['last-delivered-id'] === copy && group.pending === 0;
    }, 10_000, 20);
    // And past the dedup window: a cancellation under a new message id reaches the actor itself, which has sent.
    const late = await notices.ask(noticeAddress(orderId), { type: 'order.cancelled', eventId: 'late-duplicate', orderId, reason: 'a late, contradicting event' });
    expect({ state: late.state, handled: late.handled }).toEqual({ state: 'confirmationSent', handled: false });
    const sent = (await outbox()).get(orderId) ?? [];
    expect(sent.map((n) => n.kind)).toEqual(['confirmation']);
    expect(sent[0]!.eventId).toBe(confirmed.id);
    expect((await notices.read(noticeAddress(orderId)))?.state).toBe('confirmationSent');
  }, 60_000);
});
