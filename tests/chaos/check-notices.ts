/**
 * The choreographed subscriber kept its promise: every order that settled has exactly one notice in the
 * notifications outbox (its `NoticeSent` events) — a confirmation for a confirmed order, a cancellation for a
 * cancelled (compensated) one, addressed to its customer — and an order that never settled, or was never created,
 * has none. The notifications process is among the processes the run kills, so this holds across its restarts.
 */
import { some, type CheckContext } from './check-context.ts';

const CHECK = 'notices';

export function checkNotices(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const wrong: string[] = [];
  let confirmations = 0;
  let cancellations = 0;
  for (const [orderId, order] of state.orders) {
    const created = order.context.customer !== null;
    const expected = !created ? [] : order.state === 'confirmed' ? ['confirmation'] : order.state === 'cancelled' ? ['cancellation'] : [];
    const sent = state.notices.get(orderId) ?? [];
    const kinds = sent.map((n) => n.kind);
    if (kinds.join() !== expected.join()) wrong.push(`${orderId} (${order.state}${created ? '' : ', never created'}): [${kinds.join(', ')}] instead of [${expected.join(', ')}]`);
    else if (sent[0] && sent[0].to?.email !== order.context.customer?.email) wrong.push(`${orderId}: its notice went to ${sent[0].to?.email ?? 'nobody'}, not ${order.context.customer?.email}`);
    if (kinds.join() === 'confirmation') confirmations++;
    if (kinds.join() === 'cancellation') cancellations++;
  }
  const strays = [...state.notices.keys()].filter((orderId) => !state.orders.has(orderId));
  if (wrong.length) violations.push({ check: CHECK, message: `${wrong.length} order(s) without exactly one right notice: ${some(wrong, (w) => w)}` });
  if (strays.length) violations.push({ check: CHECK, message: `${strays.length} notice(s) for orders that do not exist: ${some(strays, (s) => s)}` });
  notes.push(`notices: ${confirmations} confirmations and ${cancellations} cancellations in the outbox, one per settled order`);
}
