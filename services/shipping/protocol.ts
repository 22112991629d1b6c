/**
 * The shipping service's contract, declared before anything uses it: the `shipment` actor's address, the commands
 * it accepts (from HTTP handlers and from the order saga), the replies it tells back, the domain events it
 * publishes, the HTTP error codes and the TypeBox schemas of every route. The saga relies on these shapes exactly.
 */
import { t } from 'elysia';
import type { DocumentTag } from '../../runtime/http/index.ts';
import { EXAMPLE, lineSchema, MAX_ORDER_LINES, OrderId, ShippingAddressSchema, type Line, type ShippingAddress } from '../shared/shop-vocabulary.ts';

export type { Line, ShippingAddress };

export const SERVICE = 'shipping';

/** What the shipping service's OpenAPI document says first, and its tags. */
export const SHIPPING_API = {
  description: 'Shipments per order: a carrier and tracking id for the destination, or the reason none serves it. Each order’s shipment is an actor that decides in the turn that receives the command.',
  tags: [{ name: 'shipments', description: 'Schedule, read and cancel an order’s shipment' }] satisfies DocumentTag[],
};
export const MAX_LINES = MAX_ORDER_LINES;

export const shipmentAddress = (orderId: string) => `${SERVICE}/shipment/${orderId}`;


export const SHIPMENT_STATES = ['idle', 'scheduled', 'rejected', 'cancelled'] as const;
export type ShipmentState = (typeof SHIPMENT_STATES)[number];

export type ShipmentContext = {
  orderId: string;
  address: ShippingAddress | null;
  lines: Line[];
  carrier: string | null;
  trackingId: string | null;
  /** Why it was rejected ("no carrier serves country XX"). */
  reason: string | null;
};

export type ShipmentCommand =
  | { type: 'schedule'; orderId: string; address: ShippingAddress; lines: Line[]; replyTo?: string; commandId?: string }
  | { type: 'cancel'; orderId: string; replyTo?: string; commandId?: string };

/** What a shipment tells a command's `replyTo` (and answers an `ask`). Every reply carries orderId and commandId. */
export type ShippingReply =
  | { type: 'shipping.scheduled'; orderId: string; commandId?: string; trackingId: string; carrier: string }
  | { type: 'shipping.rejected'; orderId: string; commandId?: string; reason: string }
  | { type: 'shipping.cancelled'; orderId: string; commandId?: string };

/** Domain events on the shipping event log (the runtime adds id, aggregate and time). */
export type ShippingEvent =
  | { type: 'ShipmentScheduled'; data: { orderId: string; trackingId: string; carrier: string; country: string } }
  | { type: 'ShipmentRejected'; data: { orderId: string; reason: string } }
  | { type: 'ShipmentCancelled'; data: { orderId: string; trackingId: string | null } };

/** What is wrong with a schedule command, or null (messages are checked too, not only HTTP bodies). */
export function scheduleProblem(command: { address?: unknown; lines?: unknown }): string | null {
  const a = (command.address ?? null) as Partial<ShippingAddress> | null;
  if (!a || typeof a !== 'object') return 'address is required';
  for (const field of ['name', 'line1', 'city'] as const) {
    if (typeof a[field] !== 'string' || a[field].trim() === '') return `address.${field} is required`;
  }
  if (typeof a.country !== 'string' || !/^[A-Za-z]{2}$/.test(a.country)) return `address.country must be a two-letter ISO code, got ${JSON.stringify(a.country)}`;
  const lines = command.lines;
  if (!Array.isArray(lines) || lines.length === 0) return 'a shipment needs at least one line';
  if (lines.length > MAX_LINES) return `a shipment has at most ${MAX_LINES} lines`;
  for (const [i, line] of lines.entries()) {
    const { sku, qty } = (line ?? {}) as Partial<Line>;
    if (typeof sku !== 'string' || sku === '') return `line ${i} has no SKU`;
    if (!Number.isInteger(qty) || qty! < 1) return `line ${i}: quantity of ${sku} must be a positive integer`;
  }
  return null;
}

export const noCarrierReason = (country: string) => `no carrier serves country ${country}`;

// ─── HTTP ──────────────────────────────────────────────────────────────────────────────────────────────────────

export const ShippingErrorCode = {
  SHIPMENT_NOT_FOUND: 'SHIPMENT_NOT_FOUND',
  /** No carrier serves the destination (or the shipment was rejected before). */
  SHIPPING_UNAVAILABLE: 'SHIPPING_UNAVAILABLE',
  /** The order's shipment was cancelled and cannot be scheduled again. */
  SHIPMENT_CANCELLED: 'SHIPMENT_CANCELLED',
  /** The actor did not answer in time (the command stays queued and will be applied). */
  SHIPPING_BUSY: 'SHIPPING_BUSY',
} as const;

export const OrderIdParams = t.Object({ orderId: OrderId() });

export const ScheduleBody = t.Object(
  {
    orderId: OrderId(),
    address: ShippingAddressSchema,
    lines: t.Array(lineSchema(100_000), { minItems: 1, maxItems: MAX_LINES }),
  },
  { examples: [{ orderId: EXAMPLE.orderId, address: EXAMPLE.address, lines: [{ sku: EXAMPLE.sku, qty: 2 }] }] },
);

export const ShipmentViewSchema = t.Object({
  orderId: OrderId(),
  state: t.Union([t.Literal('idle'), t.Literal('scheduled'), t.Literal('rejected'), t.Literal('cancelled')]),
  trackingId: t.Optional(t.String()),
  carrier: t.Optional(t.String()),
  reason: t.Optional(t.String()),
});
export type ShipmentView = typeof ShipmentViewSchema.static;

export function shipmentView(state: string, c: ShipmentContext): ShipmentView {
  const view: ShipmentView = { orderId: c.orderId, state: state as ShipmentState };
  if (c.trackingId) view.trackingId = c.trackingId;
  if (c.carrier) view.carrier = c.carrier;
  if (c.reason) view.reason = c.reason;
  return view;
}
