/**
 * The order-fulfillment saga: create order → reserve inventory → charge payment → schedule shipment → confirm
 * order → commit the stock. A rejection or a timeout unwinds what was done in reverse — cancel the shipment,
 * refund, release the stock, cancel the order with the reason — each compensation retried until it succeeds or an
 * operator takes over.
 * Hosted by the order service as actor `order/fulfillment/<orderId>`; the order actor starts it when an order is
 * created.
 */
import { defineSaga, type SagaCompletionStep, type SagaStep } from '../runtime/index.ts';
// The participants' contracts: each service's protocol declares its addresses, commands and replies, and the saga
// uses them as declared, so a renamed reply or a changed command breaks the build here rather than a saga at run time.
// (Types and address helpers only: services never import each other, and the saga is the one place that knows them all.)
import { reservationAddress, type InventoryReply, type ReservationCommand } from '../services/inventory/protocol.ts';
import { FULFILLMENT_SAGA, orderAddress, type Customer, type OrderLine, type OrderMessage, type OrderReply, type ShippingAddress } from '../services/order/protocol.ts';
import { paymentAddress, type PaymentCommand, type PaymentReply } from '../services/payment/protocol.ts';
import { shipmentAddress, type ShipmentCommand, type ShippingReply } from '../services/shipping/protocol.ts';

export type FulfillmentLine = OrderLine;
export type FulfillmentData = {
  orderId: string;
  customer: Customer;
  lines: FulfillmentLine[];
  address: ShippingAddress;
  total: number;
  chargeId?: string;
  trackingId?: string;
};

type D = FulfillmentData;

/** Timeouts per step; each can be set from the environment for tests and benchmarks. */
const ms = (name: string, fallback: number) => Number(process.env[`MAILROOM_SAGA_${name}_TIMEOUT_MS`] ?? fallback);

const createOrder: SagaStep<D, OrderReply, OrderMessage> = {
  name: 'createOrder',
  command: (d) => ({ to: orderAddress(d.orderId), event: { type: 'create', orderId: d.orderId, customer: d.customer, lines: d.lines, address: d.address, total: d.total } }),
  succeeded: 'order.created',
  compensation: {
    command: (d, why) => ({ to: orderAddress(d.orderId), event: { type: 'cancel', orderId: d.orderId, reason: why.reason } }),
    succeeded: 'order.cancelled',
  },
  timeoutMs: ms('ORDER', 5_000),
  retry: { maxAttempts: 3, backoffMs: 200 },
};

const reserveInventory: SagaStep<D, InventoryReply, ReservationCommand> = {
  name: 'reserveInventory',
  command: (d) => ({ to: reservationAddress(d.orderId), event: { type: 'reserve', orderId: d.orderId, lines: d.lines.map(({ sku, qty }) => ({ sku, qty })) } }),
  succeeded: 'inventory.reserved',
  failed: 'inventory.rejected',
  compensation: {
    command: (d) => ({ to: reservationAddress(d.orderId), event: { type: 'release', orderId: d.orderId } }),
    succeeded: 'inventory.released',
  },
  timeoutMs: ms('INVENTORY', 5_000),
  retry: { maxAttempts: 3, backoffMs: 200 },
};

const chargePayment: SagaStep<D, PaymentReply, PaymentCommand> = {
  name: 'chargePayment',
  command: (d) => ({ to: paymentAddress(d.orderId), event: { type: 'charge', orderId: d.orderId, amount: d.total } }),
  succeeded: 'payment.charged',
  failed: 'payment.failed',
  onSuccess: (_d, reply) => ({ chargeId: reply.type === 'payment.charged' ? String(reply.chargeId ?? '') : '' }),
  // "Provider unavailable" (retryable) may hide a charge that landed after the payment service gave up waiting:
  // refund it then too. The payment actor's refund after a failed charge settles the provider key first — it
  // voids a key that holds nothing (no late charge can land) or refunds the charge it holds — so the money nets
  // to zero either way. A decline (not retryable) charged nothing.
  uncertain: (reply) => reply.type === 'payment.failed' && reply.retryable === true,
  compensation: {
    command: (d) => ({ to: paymentAddress(d.orderId), event: { type: 'refund', orderId: d.orderId } }),
    succeeded: 'payment.refunded',
    failed: 'payment.refundFailed',
  },
  timeoutMs: ms('PAYMENT', 15_000),
  retry: { maxAttempts: 2, backoffMs: 500 },
};

const scheduleShipment: SagaStep<D, ShippingReply, ShipmentCommand> = {
  name: 'scheduleShipment',
  command: (d) => ({ to: shipmentAddress(d.orderId), event: { type: 'schedule', orderId: d.orderId, address: d.address, lines: d.lines } }),
  succeeded: 'shipping.scheduled',
  failed: 'shipping.rejected',
  onSuccess: (_d, reply) => ({ trackingId: reply.type === 'shipping.scheduled' ? String(reply.trackingId ?? '') : '' }),
  compensation: {
    command: (d) => ({ to: shipmentAddress(d.orderId), event: { type: 'cancel', orderId: d.orderId } }),
    succeeded: 'shipping.cancelled',
  },
  timeoutMs: ms('SHIPPING', 5_000),
  retry: { maxAttempts: 3, backoffMs: 200 },
};

const confirmOrder: SagaStep<D, OrderReply, OrderMessage> = {
  name: 'confirmOrder',
  command: (d) => ({ to: orderAddress(d.orderId), event: { type: 'confirm', orderId: d.orderId } }),
  succeeded: 'order.confirmed',
  // Cancelled meanwhile (by an operator): unwind everything.
  failed: 'order.cancelled',
  timeoutMs: ms('ORDER', 5_000),
  retry: { maxAttempts: 3, backoffMs: 200 },
};

// The stock leaves the warehouse once the order is confirmed: reserved → shipped. The saga completes only once the
// reservation acknowledged it (a commit of a committed reservation is acknowledged again); a reservation that can no
// longer commit (released meanwhile) parks the saga for an operator.
const commitInventory: SagaCompletionStep<D, InventoryReply, ReservationCommand> = {
  name: 'commitInventory',
  command: (d) => ({ to: reservationAddress(d.orderId), event: { type: 'commit', orderId: d.orderId } }),
  succeeded: 'inventory.committed',
  failed: 'inventory.commitFailed',
};

export const orderFulfillment = defineSaga<FulfillmentData>({
  name: FULFILLMENT_SAGA,
  steps: [createOrder, reserveInventory, chargePayment, scheduleShipment, confirmOrder],
  compensation: { maxAttempts: 10, baseBackoffMs: 200, maxBackoffMs: 10_000, timeoutMs: 10_000 },
  completion: [commitInventory],
});
