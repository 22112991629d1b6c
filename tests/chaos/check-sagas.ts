/**
 * Every order ended: each saga is `completed` (its order confirmed, its parcel booked) or `compensated` (its order
 * cancelled, no parcel left booked), none is still running or compensating, and a parked one is allowed only when
 * an injected fault is what made its compensation give up (see parked.ts) — those are listed with the cause. Also:
 * every order the gateway accepted exists with its saga, every order in the system was placed by the run, its total
 * is the catalogue's, and no order that had to fail (short stock, unserved country, over the card limit) was
 * confirmed.
 */
import { outcomes, sagaStatus, some, type CheckContext } from './check-context.ts';
import { explainParked } from './parked.ts';

const CHECK = 'sagas';

export function checkSagas(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const fail = (message: string) => violations.push({ check: CHECK, message });
  const placed = new Map(ctx.orders.map((o) => [o.orderId, o]));

  const stuck = [...state.sagas].filter(([, saga]) => !['completed', 'compensated', 'parked'].includes(sagaStatus(saga)));
  if (stuck.length) {
    fail(
      `${stuck.length} saga(s) neither completed nor compensated: ${some(stuck, ([id, s]) => {
        const last = s.context.log.at(-1);
        return `${id} in ${s.state} (last: ${last ? `${last.step} ${last.phase}${last.reason ? ` — ${last.reason}` : ''}` : 'no log'})`;
      })}`,
    );
  }

  const { confirmed, compensated, parked } = outcomes(state);
  for (const orderId of parked) {
    const saga = state.sagas.get(orderId)!;
    const cause = explainParked(ctx, orderId, saga);
    const line = `parked: ${orderId} at ${saga.context.parkedAt} — ${saga.context.reason}`;
    if (cause) notes.push(`${line}; caused by: ${cause}`);
    else fail(`${line}; no injected fault explains why its compensation gave up (log: ${some(saga.context.log.slice(-6), (l) => `${l.step} ${l.phase} ${l.reason ?? ''}`)})`);
  }

  for (const [orderId, saga] of state.sagas) {
    const order = state.orders.get(orderId);
    const status = sagaStatus(saga);
    if (!order) fail(`saga ${orderId} (${status}) has no order`);
    else if (status === 'completed' && order.state !== 'confirmed') fail(`saga ${orderId} completed but its order is ${order.state}`);
    else if (status === 'compensated' && order.state !== 'cancelled') fail(`saga ${orderId} compensated but its order is ${order.state}`);
  }
  // The parcel follows the order: booked for a confirmed one, never left booked for a compensated one.
  for (const orderId of confirmed) {
    const shipment = state.shipments.get(orderId);
    if (shipment?.state !== 'scheduled') fail(`confirmed order ${orderId} has no scheduled shipment (${shipment?.state ?? 'none'})`);
  }
  for (const orderId of compensated) {
    const shipment = state.shipments.get(orderId);
    if (shipment?.state === 'scheduled') fail(`compensated order ${orderId} still has a scheduled shipment (${shipment.context.trackingId})`);
  }
  for (const [orderId, order] of state.orders) {
    if (!state.sagas.has(orderId)) fail(`order ${orderId} (${order.state}) has no saga`);
    if (!placed.has(orderId)) fail(`order ${orderId} exists but the run never placed it`);
  }

  for (const order of ctx.orders) {
    const found = state.orders.get(order.orderId);
    if (order.outcome === 'accepted' && !found) fail(`order ${order.orderId} (#${order.n}) was accepted with 202 but does not exist`);
    if (found && found.context.total !== order.total) fail(`order ${order.orderId} totals ${found.context.total}, the catalogue says ${order.total}`);
    if (order.kind !== 'normal' && confirmed.has(order.orderId)) fail(`order ${order.orderId} is ${order.kind} and must fail, but it was confirmed`);
    if (order.outcome === 'refused') fail(`order #${order.n} was refused by the gateway: ${order.last}`);
  }

  // Figures: how the orders that had to fail failed, and why normal orders were compensated.
  const byKind = new Map<string, Map<string, number>>();
  for (const order of ctx.orders) {
    const saga = state.sagas.get(order.orderId);
    const outcome = !saga ? `no saga (${order.outcome})` : sagaStatus(saga) === 'compensated' ? `compensated at ${saga.context.failedStep}` : sagaStatus(saga);
    const kinds = byKind.get(order.kind) ?? new Map<string, number>();
    kinds.set(outcome, (kinds.get(outcome) ?? 0) + 1);
    byKind.set(order.kind, kinds);
  }
  for (const [kind, counts] of byKind) notes.push(`${kind} orders: ${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}`);
  const unanswered = ctx.orders.filter((o) => o.outcome === 'unanswered');
  if (unanswered.length) notes.push(`orders the gateway never accepted within 60 s of retries: ${some(unanswered, (o) => `#${o.n} ${o.last}`, 5)}`);
  const normalCompensated = [...compensated].filter((id) => placed.get(id)?.kind === 'normal');
  if (normalCompensated.length) {
    const why = new Map<string, number>();
    for (const id of normalCompensated) {
      const reason = (state.sagas.get(id)!.context.reason || '?').replace(/[0-9a-f]{8,}|ord-\w+/g, '…');
      why.set(reason, (why.get(reason) ?? 0) + 1);
    }
    notes.push(`normal orders compensated because of the faults: ${[...why].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n}× ${r}`).join('; ')}`);
  }
}
