/**
 * Stock: for every SKU, onHand + reserved + shipped = seeded + restocked and nothing is negative; it was seeded with
 * the catalogue's stock; its `restocked` is exactly what the run's restocks added (each applied once, by its
 * idempotency key, as the StockRestocked events show); what it shipped is exactly the units of the confirmed orders;
 * and no units are left held for an order that is over — a compensated order's stock went back, a confirmed
 * order's reservation was committed.
 */
import { outcomes, some, type CheckContext } from './check-context.ts';

const CHECK = 'stock';

export function checkStock(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const fail = (message: string) => violations.push({ check: CHECK, message });
  const { confirmed, compensated } = outcomes(state);

  // What the restocks added, from the events: the message id of a restock is `restock:<sku>:<idempotency key>`.
  const restockEvents = state.events.inventory!.filter((e) => e.type === 'StockRestocked');
  const appliedPerKey = new Map<string, number>();
  const restockedBy = new Map<string, number>();
  for (const e of restockEvents) {
    const data = e.data as { sku: string; qty: number };
    appliedPerKey.set(e.cause, (appliedPerKey.get(e.cause) ?? 0) + 1);
    restockedBy.set(data.sku, (restockedBy.get(data.sku) ?? 0) + data.qty);
  }
  for (const r of ctx.restocks) {
    const times = appliedPerKey.get(`restock:${r.sku}:${r.key}`) ?? 0;
    if (times > 1) fail(`restock ${r.key} of ${r.qty} × ${r.sku} was applied ${times} times`);
    if (r.outcome === 'applied' && times === 0) fail(`restock ${r.key} of ${r.qty} × ${r.sku} answered 200 but never happened`);
  }
  const uncertain = ctx.restocks.filter((r) => r.outcome === 'uncertain');
  if (uncertain.length) notes.push(`restocks never confirmed within 60 s (applied ${uncertain.filter((r) => appliedPerKey.has(`restock:${r.sku}:${r.key}`)).length} of ${uncertain.length}, once each)`);

  const shippedFor = new Map<string, number>();
  for (const id of confirmed) for (const line of state.orders.get(id)?.context.lines ?? []) shippedFor.set(line.sku, (shippedFor.get(line.sku) ?? 0) + line.qty);

  const lines: string[] = [];
  for (const [sku, view] of state.skus) {
    const c = view.context;
    const reservedUnits = Object.values(c.reserved).reduce((s, q) => s + q, 0);
    if (c.onHand + reservedUnits + c.shipped !== c.seeded + c.restocked) {
      fail(`${sku}: onHand ${c.onHand} + reserved ${reservedUnits} + shipped ${c.shipped} ≠ seeded ${c.seeded} + restocked ${c.restocked}`);
    }
    if (c.onHand < 0 || c.shipped < 0 || Object.values(c.reserved).some((q) => q < 0)) fail(`${sku} has a negative count: ${JSON.stringify({ onHand: c.onHand, reserved: c.reserved, shipped: c.shipped })}`);
    const seeded = ctx.seeded.get(sku);
    if (seeded !== undefined && c.seeded !== seeded) fail(`${sku} was seeded with ${c.seeded}, the catalogue says ${seeded}`);
    if (c.restocked !== (restockedBy.get(sku) ?? 0)) fail(`${sku} counts ${c.restocked} restocked, its StockRestocked events add up to ${restockedBy.get(sku) ?? 0}`);
    if (c.shipped !== (shippedFor.get(sku) ?? 0)) fail(`${sku} shipped ${c.shipped}, the confirmed orders hold ${shippedFor.get(sku) ?? 0}`);
    const heldForCompensated = Object.keys(c.reserved).filter((id) => compensated.has(id));
    if (heldForCompensated.length) fail(`${sku} still holds stock for compensated order(s) ${some(heldForCompensated, (id) => `${id} (${c.reserved[id]})`)}`);
    const heldForConfirmed = Object.keys(c.reserved).filter((id) => confirmed.has(id));
    if (heldForConfirmed.length) fail(`${sku} still holds stock for confirmed order(s) whose reservation was never committed: ${some(heldForConfirmed, (id) => `${id} (${c.reserved[id]})`)}`);
    const heldForOther = Object.keys(c.reserved).filter((id) => !confirmed.has(id) && !compensated.has(id));
    if (heldForOther.length) notes.push(`${sku} holds stock for orders whose saga has not ended: ${some(heldForOther, (id) => id)}`);
    lines.push(`${sku} ${c.onHand}+${reservedUnits}+${c.shipped}=${c.seeded}+${c.restocked}`);
  }
  notes.push(`stock (onHand+reserved+shipped=seeded+restocked): ${lines.join(', ')}`);

  for (const [orderId, reservation] of state.reservations) {
    if (confirmed.has(orderId) && reservation.state !== 'committed') fail(`the reservation of confirmed order ${orderId} is ${reservation.state}, not committed`);
    if (compensated.has(orderId) && !['released', 'rejected'].includes(reservation.state)) fail(`the reservation of compensated order ${orderId} is ${reservation.state}`);
  }
  for (const orderId of confirmed) if (!state.reservations.has(orderId)) fail(`confirmed order ${orderId} has no reservation`);
}
