/**
 * The system's state once the run has healed and settled, read in one go for the checks: every actor of every
 * service as committed (through client nodes, which read Redis without sending anything), every service's event log,
 * the notifications outbox, the provider's ledger, and each mailbox's consumer group (pending, undelivered), outbox, timers, running effects
 * and dead letters. Reading is done after the faults stopped, so nothing here races a kill.
 */
import { createNode, readEvents, UnknownServiceError, type ActorView, type DomainEvent, type MailroomNode, type SagaContext } from '../../runtime/index.ts';
import { SERVICE_NAMES } from '../../services/config.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import type { SkuContext, ReservationContext } from '../../services/inventory/protocol.ts';
import type { OrderContext } from '../../services/order/protocol.ts';
import type { PaymentContext } from '../../services/payment/protocol.ts';
import { providerKeys } from '../../services/payment-provider/keys.ts';
import type { Charge, Refund } from '../../services/payment-provider/protocol.ts';
import type { ShipmentContext } from '../../services/shipping/protocol.ts';
import type { Notice } from '../../services/notifications/protocol.ts';
import type { FulfillmentData } from '../../sagas/order-fulfillment.ts';
import type { Monitor } from './recovery.ts';

export type SagaView = ActorView<SagaContext<FulfillmentData>>;

export type MailboxState = {
  service: string;
  partition: number;
  /** Delivered to the group and never acked. */
  pending: number;
  /** Entries after the group's last delivered id: never read at all. */
  undelivered: number;
  outbox: number;
  timers: number;
  effects: number;
};

export type DeadLetterEntry = { service: string; partition: number; id: string; actor: string; event: string; messageId: string; error: string; deliveries: number; orderId?: string };

export type FinalState = {
  orders: Map<string, ActorView<OrderContext>>;
  sagas: Map<string, SagaView>;
  reservations: Map<string, ActorView<ReservationContext>>;
  skus: Map<string, ActorView<SkuContext>>;
  payments: Map<string, ActorView<PaymentContext>>;
  shipments: Map<string, ActorView<ShipmentContext>>;
  /** Actor addresses the index lists but that have no committed record (should be none). */
  missing: string[];
  ledger: { charges: Charge[]; refunds: Refund[]; voids: string[]; totals: Record<string, number> };
  events: Record<string, DomainEvent[]>;
  /** The notifications outbox: the notices its `NoticeSent` events recorded, by order id. */
  notices: Map<string, Notice[]>;
  mailboxes: MailboxState[];
  deadLetters: DeadLetterEntry[];
};

const PARTITIONS = 8;

/** Every actor of `type` on a service, by id. */
async function actorsOf<C>(node: MailroomNode, type: string, missing: string[]): Promise<Map<string, ActorView<C>>> {
  const addresses: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await node.list({ type, cursor, count: 1_000 });
    addresses.push(...page.items.map((i) => i.address));
    cursor = page.cursor ?? undefined;
  } while (cursor);
  const out = new Map<string, ActorView<C>>();
  for (let i = 0; i < addresses.length; i += 500) {
    const views = await Promise.all(addresses.slice(i, i + 500).map((a) => node.read<C>(a)));
    views.forEach((view, j) => {
      const address = addresses[i + j]!;
      if (view) out.set(address.slice(address.lastIndexOf('/') + 1), view);
      else missing.push(address);
    });
  }
  return out;
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** Stream ids compared as numbers (`ms-seq`), never as strings. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

async function mailbox(redis: Monitor, prefix: string, service: string, partition: number): Promise<MailboxState> {
  const k = partitionKeys(prefix, service, partition);
  const [summary, groups, last, outbox, timers, effects] = await Promise.all([
    redis.sendCommand(['XPENDING', k.mbox, service]).catch(() => [0]) as Promise<unknown[]>,
    redis.sendCommand(['XINFO', 'GROUPS', k.mbox]).catch(() => []) as Promise<unknown[]>,
    redis.sendCommand(['XREVRANGE', k.mbox, '+', '-', 'COUNT', '1']) as Promise<[string, string[]][]>,
    redis.xLen(k.outbox),
    redis.zCard(k.timers),
    redis.hLen(k.effects),
  ]);
  const group = (groups as unknown[])
    .map((g) => (Array.isArray(g) ? fieldsOf(g as string[]) : (g as Record<string, string>)))
    .find((g) => g.name === service);
  const delivered = String(group?.['last-delivered-id'] ?? '0-0');
  let undelivered = 0;
  if (last[0] && compareIds(last[0][0], delivered) > 0) {
    const after = (await redis.sendCommand(['XRANGE', k.mbox, `(${delivered}`, '+'])) as unknown[];
    undelivered = after.length;
  }
  return { service, partition, pending: Number(summary[0] ?? 0), undelivered, outbox: Number(outbox), timers: Number(timers), effects: Number(effects) };
}

async function deadLettersOf(redis: Monitor, prefix: string, service: string, partition: number): Promise<DeadLetterEntry[]> {
  const rows = (await redis.sendCommand(['XRANGE', partitionKeys(prefix, service, partition).dlq, '-', '+'])) as [string, string[]][];
  return rows.map(([id, flat]) => {
    const f = fieldsOf(flat);
    let event = '?';
    let orderId: string | undefined;
    try {
      const e = JSON.parse(f.e ?? '{}') as { type?: string; orderId?: string };
      event = e.type ?? '?';
      orderId = e.orderId;
    } catch {}
    return { service, partition, id, actor: f.a ?? '?', event, messageId: f.m ?? '', error: f.error ?? '', deliveries: Number(f.deliveries ?? 0), orderId };
  });
}

/**
 * Reads everything.
 *
 * @example
 * const state = await readFinalState(system.redisUrl, system.prefix, monitor);
 * state.sagas.size; // one per order
 */
export async function readFinalState(url: string, prefix: string, redis: Monitor): Promise<FinalState> {
  const nodes = Object.fromEntries(
    await Promise.all(SERVICE_NAMES.map(async (service) => [service, await createNode({ service, actors: [], consume: false, keyPrefix: prefix, redis: url, inspectStream: 'off' })] as const)),
  ) as Record<string, MailroomNode>;
  try {
    const missing: string[] = [];
    const [orders, sagas, reservations, skus, payments, shipments] = await Promise.all([
      actorsOf<OrderContext>(nodes.order!, 'order', missing),
      actorsOf<SagaContext<FulfillmentData>>(nodes.order!, 'fulfillment', missing),
      actorsOf<ReservationContext>(nodes.inventory!, 'reservation', missing),
      actorsOf<SkuContext>(nodes.inventory!, 'sku', missing),
      actorsOf<PaymentContext>(nodes.payment!, 'payment', missing),
      actorsOf<ShipmentContext>(nodes.shipping!, 'shipment', missing),
    ]);
    const pk = providerKeys(prefix);
    const [charges, refunds, voids, totals] = await Promise.all([redis.hGetAll(pk.charges), redis.hGetAll(pk.refunds), redis.hGetAll(pk.voids), redis.hGetAll(pk.totals)]);
    const events: Record<string, DomainEvent[]> = {};
    for (const service of SERVICE_NAMES) events[service] = await readEvents({ service, keyPrefix: prefix, redis: url, count: 10_000_000 });
    // The notifications outbox, when the run had a notifications process (a test may run the shop without it).
    const outbox = await readEvents({ service: 'notifications', keyPrefix: prefix, redis: url, count: 10_000_000 }).catch((error: unknown) => {
      if (error instanceof UnknownServiceError) return [];
      throw error;
    });
    const notices = new Map<string, Notice[]>();
    for (const e of outbox) {
      if (e.type !== 'NoticeSent') continue;
      const notice = e.notice as Notice;
      notices.set(notice.orderId, [...(notices.get(notice.orderId) ?? []), notice]);
    }
    const cells = SERVICE_NAMES.flatMap((service) => [...Array(PARTITIONS).keys()].map((p) => [service, p] as const));
    const mailboxes = await Promise.all(cells.map(([s, p]) => mailbox(redis, prefix, s, p)));
    const deadLetters = (await Promise.all(cells.map(([s, p]) => deadLettersOf(redis, prefix, s, p)))).flat();
    return {
      orders,
      sagas,
      reservations,
      skus,
      payments,
      shipments,
      missing,
      ledger: {
        charges: Object.values(charges).map((json) => JSON.parse(json) as Charge),
        refunds: Object.values(refunds).map((json) => JSON.parse(json) as Refund),
        voids: Object.keys(voids),
        totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Number(v)])),
      },
      events,
      notices,
      mailboxes,
      deadLetters,
    };
  } finally {
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
  }
}
