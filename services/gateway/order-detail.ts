/**
 * The gateway's view of one order, put together from four services at once: the order, its stock reservation, its
 * payment, its shipment, and the fulfillment saga that drives them (with its log). Every call starts before any is
 * awaited, so the view takes as long as the slowest service, not their sum. Only the order is essential; a part
 * whose service is down, slow or behind an open breaker is left out and named in `degraded`, and a part its service
 * does not have yet is `null`.
 */
import { HttpError } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { call, passOn, type Reply } from './downstreams.ts';
import { GatewayErrorCode, ORDER_PARTS, type Downstream, type OrderDetail, type OrderPart } from './protocol.ts';

/** How long a part may take before the view goes out without it. */
export const PART_BUDGET_MS = 1_500;

const PART_PATHS: Record<OrderPart, (orderId: string) => string> = {
  reservation: (id) => `/reservations/${encodeURIComponent(id)}`,
  payment: (id) => `/payments/${encodeURIComponent(id)}`,
  shipment: (id) => `/shipments/${encodeURIComponent(id)}`,
  // The saga lives in the order service too; it is a part like the others, so the order still shows without it.
  saga: (id) => `/sagas/${encodeURIComponent(id)}`,
};

type Part = { name: OrderPart; value: unknown } | { name: OrderPart; failed: true };

/** A part: its view, `null` if its service has none, or failed (never throws). */
async function fetchPart(http: HttpClient, name: OrderPart, orderId: string, budgetMs: number): Promise<Part> {
  const dependency: Downstream = ORDER_PARTS[name];
  try {
    const reply = await call(http, dependency, PART_PATHS[name](orderId), { signal: AbortSignal.timeout(budgetMs) });
    // A body without the contract's orderId and state (a saga's status) is a broken part, not a reason to fail the whole view.
    const stateField = name === 'saga' ? 'status' : 'state';
    if (reply.status === 200 && typeof reply.body?.orderId === 'string' && typeof reply.body?.[stateField] === 'string') return { name, value: reply.body };
    if (reply.status === 404) return { name, value: null };
    return { name, failed: true };
  } catch {
    return { name, failed: true };
  }
}

/**
 * The order with its parts. Throws 404 `ORDER_NOT_FOUND` for an unknown order, and what `callOrder` throws when
 * the order service cannot answer (a 503 with `Retry-After`).
 *
 * @example
 * const detail = await orderDetail(http, callerFor(http, set), 'ord-1');
 * detail.degraded; // ['payment'] while the payment service is down
 */
export async function orderDetail(
  http: HttpClient,
  callOrder: (dependency: 'order', path: string) => Promise<Reply>,
  orderId: string,
  budgetMs: number = PART_BUDGET_MS,
): Promise<OrderDetail> {
  const parts = (Object.keys(PART_PATHS) as OrderPart[]).map((name) => fetchPart(http, name, orderId, budgetMs));
  const order = await callOrder('order', `/orders/${encodeURIComponent(orderId)}`);
  if (order.status === 404) throw new HttpError(404, GatewayErrorCode.orderNotFound, `no order ${orderId}`, { orderId });
  if (order.status !== 200) throw passOn('order', order);

  const detail: OrderDetail = { orderId, order: order.body, degraded: [] };
  for (const part of await Promise.all(parts)) {
    if ('failed' in part) detail.degraded.push(part.name);
    else (detail as Record<string, unknown>)[part.name] = part.value;
  }
  return detail;
}
