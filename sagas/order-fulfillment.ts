/**
 * The order-fulfillment saga: create order → reserve inventory → charge payment → schedule shipment → confirm
 * order → commit the stock. A rejection or a timeout unwinds what was done in reverse — cancel the shipment,
 * refund, release the stock, cancel the order with the reason — each compensation retried until it succeeds or an
 * operator takes over.
 * Hosted by the order service as actor `order/fulfillment/<orderId>`; the order actor starts it when an order is
 * created.
 */
import { defineSaga } from '../runtime/index.ts';

export type FulfillmentLine = { sku: string; qty: number; price: number };
export type FulfillmentData = {
  orderId: string;
  customer: { name: string; email: string };
  lines: FulfillmentLine[];
  address: { name: string; line1: string; city: string; country: string };
  total: number;
  chargeId?: string;
  trackingId?: string;
};

const order = (d: FulfillmentData) => `order/order/${d.orderId}`;
const reservation = (d: FulfillmentData) => `inventory/reservation/${d.orderId}`;
const payment = (d: FulfillmentData) => `payment/payment/${d.orderId}`;
const shipment = (d: FulfillmentData) => `shipping/shipment/${d.orderId}`;

/** Timeouts per step; each can be set from the environment for tests and benchmarks. */
const ms = (name: string, fallback: number) => Number(process.env[`MAILROOM_SAGA_${name}_TIMEOUT_MS`] ?? fallback);

export const orderFulfillment = defineSaga<FulfillmentData>({
  name: 'fulfillment',
  steps: [
    {
      name: 'createOrder',
      command: (d) => ({ to: order(d), event: { type: 'create', orderId: d.orderId, customer: d.customer, lines: d.lines, address: d.address, total: d.total } }),
      succeeded: 'order.created',
      compensation: {
        command: (d, why) => ({ to: order(d), event: { type: 'cancel', orderId: d.orderId, reason: why.reason } }),
        succeeded: 'order.cancelled',
      },
      timeoutMs: ms('ORDER', 5_000),
      retry: { maxAttempts: 3, backoffMs: 200 },
    },
    {
      name: 'reserveInventory',
      command: (d) => ({ to: reservation(d), event: { type: 'reserve', orderId: d.orderId, lines: d.lines.map(({ sku, qty }) => ({ sku, qty })) } }),
      succeeded: 'inventory.reserved',
      failed: 'inventory.rejected',
      compensation: {
        command: (d) => ({ to: reservation(d), event: { type: 'release', orderId: d.orderId } }),
        succeeded: 'inventory.released',
      },
      timeoutMs: ms('INVENTORY', 5_000),
      retry: { maxAttempts: 3, backoffMs: 200 },
    },
    {
      name: 'chargePayment',
      command: (d) => ({ to: payment(d), event: { type: 'charge', orderId: d.orderId, amount: d.total } }),
      succeeded: 'payment.charged',
      failed: 'payment.failed',
      onSuccess: (_d, reply) => ({ chargeId: String(reply.chargeId ?? '') }),
      // "Provider unavailable" (retryable) may hide a charge that landed after the payment service gave up waiting:
      // refund it then too. The payment actor's refund after a failed charge settles the provider key first — it
      // voids a key that holds nothing (no late charge can land) or refunds the charge it holds — so the money nets
      // to zero either way. A decline (not retryable) charged nothing.
      uncertain: (reply) => reply.retryable === true,
      compensation: {
        command: (d) => ({ to: payment(d), event: { type: 'refund', orderId: d.orderId } }),
        succeeded: 'payment.refunded',
        failed: 'payment.refundFailed',
      },
      timeoutMs: ms('PAYMENT', 15_000),
      retry: { maxAttempts: 2, backoffMs: 500 },
    },
    {
      name: 'scheduleShipment',
      command: (d) => ({ to: shipment(d), event: { type: 'schedule', orderId: d.orderId, address: d.address, lines: d.lines } }),
      succeeded: 'shipping.scheduled',
      failed: 'shipping.rejected',
      onSuccess: (_d, reply) => ({ trackingId: String(reply.trackingId ?? '') }),
      compensation: {
        command: (d) => ({ to: shipment(d), event: { type: 'cancel', orderId: d.orderId } }),
        succeeded: 'shipping.cancelled',
      },
      timeoutMs: ms('SHIPPING', 5_000),
      retry: { maxAttempts: 3, backoffMs: 200 },
    },
    {
      name: 'confirmOrder',
      command: (d) => ({ to: order(d), event: { type: 'confirm', orderId: d.orderId } }),
      succeeded: 'order.confirmed',
      // Cancelled meanwhile (by an operator): unwind everything.
      failed: 'order.cancelled',
      timeoutMs: ms('ORDER', 5_000),
      retry: { maxAttempts: 3, backoffMs: 200 },
    },
  ],
  compensation: { maxAttempts: 10, baseBackoffMs: 200, maxBackoffMs: 10_000, timeoutMs: 10_000 },
  // The stock leaves the warehouse once the order is confirmed: reserved → shipped. The saga completes only once the
  // reservation acknowledged it (a commit of a committed reservation is acknowledged again); a reservation that can no
  // longer commit (released meanwhile) parks the saga for an operator.
  completion: [
    {
      name: 'commitInventory',
      command: (d) => ({ to: reservation(d), event: { type: 'commit', orderId: d.orderId } }),
      succeeded: 'inventory.committed',
      failed: 'inventory.commitFailed',
    },
  ],
});
