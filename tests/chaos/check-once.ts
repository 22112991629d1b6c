/**
 * A duplicated (or redelivered, or re-run) message never had a second effect. Duplicates are injected on every
 * service and kills make turns and effects run again; what they must not do is show twice in the facts: an order
 * created, confirmed or cancelled twice, a charge, refund or shipment made twice, stock held, committed or released
 * twice for one order, a saga step logged twice (each saga's log must equal its SagaStep events, one for one).
 */
import type { DomainEvent } from '../../runtime/index.ts';
import { some, type CheckContext } from './check-context.ts';

const CHECK = 'exactly-once effects';

/** Counts events by a key; returns the keys seen more than once. */
function repeated(events: DomainEvent[], key: (e: DomainEvent) => string | undefined): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of events) {
    const k = key(e);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1);
}

export function checkOnce(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const fail = (what: string, twice: [string, number][]) => {
    if (twice.length) violations.push({ check: CHECK, message: `${what}: ${some(twice, ([k, n]) => `${k} ×${n}`)}` });
  };
  const of = (service: string, ...types: string[]) => state.events[service]!.filter((e) => types.includes(e.type));
  const data = (e: DomainEvent) => (e.data ?? {}) as { sku?: string; orderId?: string };

  fail('orders created twice', repeated(of('order', 'OrderCreated'), (e) => e.aggregate));
  fail('orders settled twice (confirmed or cancelled)', repeated(of('order', 'OrderConfirmed', 'OrderCancelled'), (e) => e.aggregate));
  fail('payments charged twice', repeated(of('payment', 'PaymentCharged'), (e) => e.aggregate));
  fail('payments refunded or voided twice', repeated(of('payment', 'PaymentRefunded', 'PaymentVoided'), (e) => e.aggregate));
  fail('shipments scheduled twice', repeated(of('shipping', 'ShipmentScheduled'), (e) => e.aggregate));
  fail('shipments cancelled twice', repeated(of('shipping', 'ShipmentCancelled'), (e) => e.aggregate));
  fail('stock held twice for one order', repeated(of('inventory', 'StockHeld'), (e) => `${data(e).sku}/${data(e).orderId}`));
  fail('stock committed or released twice for one order', repeated(of('inventory', 'StockCommitted', 'StockReleased'), (e) => `${data(e).sku}/${data(e).orderId}`));
  fail('reservations reserved twice', repeated(of('inventory', 'InventoryReserved'), (e) => e.aggregate));
  fail('reservations committed twice', repeated(of('inventory', 'InventoryCommitted'), (e) => e.aggregate));
  fail('restocks applied twice', repeated(of('inventory', 'StockRestocked'), (e) => e.cause));
  fail('events published twice under one id', repeated(Object.values(state.events).flat(), (e) => e.id));

  // Each saga's log, entry for entry, against its SagaStep events (the log keeps its last 200 entries).
  const steps = new Map<string, DomainEvent[]>();
  for (const e of of('order', 'SagaStep')) steps.set(e.aggregate, [...(steps.get(e.aggregate) ?? []), e]);
  const differ: string[] = [];
  for (const [orderId, saga] of state.sagas) {
    const log = saga.context.log;
    const events = steps.get(saga.address) ?? [];
    if (log.length >= 200) continue;
    const a = log.map((l) => `${l.step}:${l.phase}:${l.attempt ?? ''}`);
    const b = events.map((e) => `${e.step}:${e.phase}:${e.attempt ?? ''}`);
    if (a.join() !== b.join()) differ.push(`${orderId}: log [${a.join(' ')}] vs events [${b.join(' ')}]`);
  }
  if (differ.length) violations.push({ check: CHECK, message: `${differ.length} saga log(s) differ from their SagaStep events: ${some(differ, (d) => d, 3)}` });

  const events = Object.values(state.events).reduce((s, list) => s + list.length, 0);
  notes.push(`exactly once: ${events} domain events checked across ${Object.keys(state.events).length} event logs, ${state.sagas.size} saga logs against their events`);
}
