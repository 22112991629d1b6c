/**
 * Money: the provider's ledger against the orders. Charges − refunds = Σ totals of the confirmed orders, exactly;
 * per order the net charge is its total if confirmed and 0 otherwise; at most one charge and one refund per order;
 * every refund belongs to a charge of the same order and never exceeds it; every charge is for an order of the run,
 * for its total; the ledger's running totals agree with its entries; and each payment actor agrees with the ledger.
 */
import { outcomes, some, type CheckContext } from './check-context.ts';

const CHECK = 'money';

export function checkMoney(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const fail = (message: string) => violations.push({ check: CHECK, message });
  const { charges, refunds, totals } = state.ledger;
  const { confirmed, parked } = outcomes(state);

  const chargesOf = new Map<string, typeof charges>();
  for (const c of charges) chargesOf.set(c.orderId, [...(chargesOf.get(c.orderId) ?? []), c]);
  const refundsOf = new Map<string, typeof refunds>();
  for (const r of refunds) refundsOf.set(r.orderId, [...(refundsOf.get(r.orderId) ?? []), r]);
  function net(orderId: string): number {
    return (chargesOf.get(orderId) ?? []).reduce((s, c) => s + c.amount, 0) - (refundsOf.get(orderId) ?? []).reduce((s, r) => s + r.amount, 0);
  }

  const charged = charges.reduce((s, c) => s + c.amount, 0);
  const refunded = refunds.reduce((s, r) => s + r.amount, 0);
  if (charged !== (totals.charged ?? 0) || refunded !== (totals.refunded ?? 0)) {
    fail(`the ledger's totals (charged ${totals.charged}, refunded ${totals.refunded}) disagree with its entries (${charged}, ${refunded})`);
  }
  if (charges.length !== (totals.charges ?? 0) || refunds.length !== (totals.refunds ?? 0)) {
    fail(`the ledger counts ${totals.charges} charges and ${totals.refunds} refunds but holds ${charges.length} and ${refunds.length}`);
  }
  const expected = [...confirmed].reduce((s, id) => s + (state.orders.get(id)?.context.total ?? 0), 0);
  const parkedNet = [...parked].reduce((s, id) => s + net(id), 0);
  if (charged - refunded - parkedNet !== expected) {
    fail(`charges − refunds = ${charged - refunded} cents${parkedNet ? ` (${parkedNet} of it on parked sagas)` : ''}, but the confirmed orders total ${expected}`);
  }
  notes.push(`money: ${charges.length} charges (${charged} cents), ${refunds.length} refunds (${refunded} cents), ${state.ledger.voids.length} voided keys; net ${charged - refunded} = Σ ${confirmed.size} confirmed orders ${expected}`);

  const twice = [...chargesOf].filter(([, cs]) => cs.length > 1);
  if (twice.length) fail(`orders charged more than once: ${some(twice, ([id, cs]) => `${id} ×${cs.length}`)}`);
  const refundedTwice = [...refundsOf].filter(([, rs]) => rs.length > 1);
  if (refundedTwice.length) fail(`orders refunded more than once: ${some(refundedTwice, ([id, rs]) => `${id} ×${rs.length}`)}`);

  const byId = new Map(charges.map((c) => [c.chargeId, c]));
  for (const r of refunds) {
    const charge = byId.get(r.chargeId);
    if (!charge) fail(`refund ${r.refundId} (${r.amount} cents) matches no charge (${r.chargeId})`);
    else if (charge.orderId !== r.orderId) fail(`refund ${r.refundId} is for order ${r.orderId} but its charge ${charge.chargeId} for ${charge.orderId}`);
    else if (r.amount > charge.amount) fail(`refund ${r.refundId} of ${r.amount} cents exceeds its charge of ${charge.amount}`);
  }

  const wrongNet: string[] = [];
  for (const [orderId, order] of state.orders) {
    if (parked.has(orderId)) continue;
    const want = confirmed.has(orderId) ? order.context.total : 0;
    const got = net(orderId);
    if (got !== want) wrongNet.push(`${orderId} (${order.state}) nets ${got}, should be ${want}`);
  }
  if (wrongNet.length) fail(`${wrongNet.length} order(s) with the wrong net charge: ${some(wrongNet, (s) => s)}`);
  for (const c of charges) {
    const order = state.orders.get(c.orderId);
    if (!order) fail(`charge ${c.chargeId} is for order ${c.orderId}, which does not exist`);
    else if (c.amount !== order.context.total) fail(`charge ${c.chargeId} is ${c.amount} cents, its order totals ${order.context.total}`);
  }

  // The payment actors tell the same story as the ledger.
  const disagree: string[] = [];
  for (const [orderId, payment] of state.payments) {
    const ledgerNet = net(orderId);
    const p = payment.context;
    if (payment.state === 'charged' && (ledgerNet !== p.amount || (chargesOf.get(orderId)?.[0]?.chargeId ?? '') !== p.chargeId)) {
      disagree.push(`${orderId}: payment charged ${p.amount} (${p.chargeId}), ledger nets ${ledgerNet}`);
    }
    if (['refunded', 'voided', 'declined'].includes(payment.state) && ledgerNet !== 0) disagree.push(`${orderId}: payment ${payment.state}, ledger nets ${ledgerNet}`);
    if (confirmed.has(orderId) && payment.state !== 'charged') disagree.push(`${orderId}: order confirmed but payment ${payment.state}`);
  }
  if (disagree.length) fail(`payment actors disagree with the ledger: ${some(disagree, (s) => s)}`);
}
