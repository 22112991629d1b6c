/**
 * The inventory service's contract, declared before anything uses it: the addresses of its two actor types, the
 * messages they accept (from HTTP handlers and from the order saga), the replies they tell back, the domain events
 * they publish, the HTTP error codes and the TypeBox schemas of every route. The saga relies on the message shapes
 * here exactly as written.
 */
import { t } from 'elysia';
import { type DocumentTag } from '../../runtime/http/index.ts';
import { type Waiter } from '../../runtime/index.ts';
import { EXAMPLE, lineSchema, MAX_ORDER_LINES, OrderId, SKU_PATTERN, SkuCode, type Line } from '../shared/shop-vocabulary.ts';

export type { Line };

export const SERVICE = 'inventory';

/** What the inventory service's OpenAPI document says first, and its tags. */
export const INVENTORY_API = {
  description: 'Stock per SKU and all-or-nothing reservations per order. Each SKU and each order’s reservation is an actor; the order saga reserves, commits and releases through the same messages these routes send.',
  tags: [
    { name: 'skus', description: 'The catalogue with live stock, and restocking' },
    { name: 'reservations', description: 'An order’s stock, held all or nothing, then committed as shipped or released' },
  ] satisfies DocumentTag[],
};

const SKU_RE = new RegExp(SKU_PATTERN);

/** Largest quantity of one SKU in one reservation, after merging lines. */
export const MAX_LINE_QTY = 100_000;
export const MAX_LINES = MAX_ORDER_LINES;

export const skuAddress = (sku: string) => `${SERVICE}/sku/${sku}`;
export const reservationAddress = (orderId: string) => `${SERVICE}/reservation/${orderId}`;


// ─── sku actor: inventory/sku/<SKU> ────────────────────────────────────────────────────────────────────────────

export type SkuState = 'unlisted' | 'listed';

export type SkuContext = {
  sku: string;
  name: string;
  /** Unit price in cents. */
  price: number;
  onHand: number;
  /** Units held per order id, until the order's reservation is released or committed. */
  reserved: Record<string, number>;
  shipped: number;
  /** The stock it was listed with, and every restock since: onHand + Σreserved + shipped = seeded + restocked. */
  seeded: number;
  restocked: number;
};

export type SkuMessage =
  | { type: 'sku.seed'; name: string; price: number; stock: number }
  | { type: 'sku.restock'; qty: number }
  | { type: 'sku.hold'; orderId: string; qty: number; replyTo: string }
  | { type: 'sku.release'; orderId: string }
  | { type: 'sku.commit'; orderId: string };

/** What a `sku` tells the `replyTo` of a `sku.hold`. */
export type SkuReply =
  | { type: 'sku.held'; sku: string; orderId: string; qty: number }
  | { type: 'sku.short'; sku: string; orderId: string; requested: number; available: number; reason: string };

// ─── reservation actor: inventory/reservation/<orderId> ───────────────────────────────────────────────────────

export const RESERVATION_STATES = ['idle', 'holding', 'reserved', 'rejected', 'released', 'committed'] as const;
export type ReservationState = (typeof RESERVATION_STATES)[number];

export type Shortage = { sku: string; requested: number; available: number; reason: string };

export type ReservationContext = {
  orderId: string;
  /** The order's lines, one per SKU (repeated SKUs merged). */
  lines: Line[];
  /** SKU → units held for this order, as the SKUs confirmed them. */
  held: Record<string, number>;
  shortages: Shortage[];
  /** Why it was rejected (names each SKU, requested and available). */
  reason: string | null;
  /** `reserve` commands waiting for the outcome while holding. */
  waiters: Waiter[];
  /** `release` commands that arrived while holding: they win once every SKU has answered. */
  releaseWaiters: Waiter[];
};

/** Commands the order saga (or an HTTP handler) sends a reservation. */
export type ReservationCommand =
  | { type: 'reserve'; orderId: string; lines: Line[]; replyTo?: string; commandId?: string }
  | { type: 'release'; orderId: string; replyTo?: string; commandId?: string }
  | { type: 'commit'; orderId: string; replyTo?: string; commandId?: string };

export type ReservationMessage = ReservationCommand | SkuReply;

/** What a reservation tells a command's `replyTo` (and answers an `ask`). Every reply carries orderId and commandId. */
export type InventoryReply =
  | { type: 'inventory.reserved'; orderId: string; commandId?: string; lines: Line[] }
  | { type: 'inventory.rejected'; orderId: string; commandId?: string; reason: string; shortages: Shortage[] }
  | { type: 'inventory.released'; orderId: string; commandId?: string }
  | { type: 'inventory.committed'; orderId: string; commandId?: string }
  /** `commit` of a reservation that is not reserved (still holding, rejected, released, unknown). */
  | { type: 'inventory.commitFailed'; orderId: string; commandId?: string; reason: string }
  /** `release` of a committed reservation: the stock has shipped. */
  | { type: 'inventory.releaseFailed'; orderId: string; commandId?: string; reason: string };

/** Domain events on the inventory event log (the runtime adds id, aggregate and time). */
export type InventoryEvent =
  | { type: 'SkuListed'; data: { sku: string; name: string; price: number; stock: number } }
  | { type: 'StockRestocked'; data: { sku: string; qty: number; onHand: number } }
  | { type: 'StockHeld'; data: { sku: string; orderId: string; qty: number; onHand: number } }
  | { type: 'StockShort'; data: { sku: string; orderId: string; requested: number; available: number } }
  | { type: 'StockReleased'; data: { sku: string; orderId: string; qty: number; onHand: number } }
  | { type: 'StockCommitted'; data: { sku: string; orderId: string; qty: number; shipped: number } }
  | { type: 'InventoryReserved'; data: { orderId: string; lines: Line[] } }
  | { type: 'InventoryRejected'; data: { orderId: string; reason: string } }
  | { type: 'InventoryReleased'; data: { orderId: string } }
  | { type: 'InventoryCommitted'; data: { orderId: string } };

// ─── rules shared by the actors and the routes ────────────────────────────────────────────────────────────────

/** Lines with the same SKU merged, in first-seen order. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const merged = new Map<string, number>();
  for (const { sku, qty } of lines) merged.set(sku, (merged.get(sku) ?? 0) + qty);
  return [...merged].map(([sku, qty]) => ({ sku, qty }));
}

/** What is wrong with a reserve command's lines, or null (messages are checked too, not only HTTP bodies). */
export function linesProblem(lines: unknown): string | null {
  if (!Array.isArray(lines) || lines.length === 0) return 'an order needs at least one line';
  if (lines.length > MAX_LINES) return `an order has at most ${MAX_LINES} lines, this one has ${lines.length}`;
  for (const [i, line] of lines.entries()) {
    const { sku, qty } = (line ?? {}) as Partial<Line>;
    if (typeof sku !== 'string' || !SKU_RE.test(sku)) return `line ${i}: "${String(sku)}" is not a SKU code (${SKU_PATTERN})`;
    if (!Number.isInteger(qty) || qty! < 1) return `line ${i}: quantity of ${sku} must be a positive integer, got ${String(qty)}`;
  }
  for (const { sku, qty } of mergeLines(lines as Line[])) {
    if (qty > MAX_LINE_QTY) return `${qty} units of ${sku} requested; at most ${MAX_LINE_QTY} per order`;
  }
  return null;
}

/** Whether two line lists ask for the same units (order and repeats aside). */
export function sameLines(a: readonly Line[], b: readonly Line[]): boolean {
  const key = (lines: readonly Line[]) =>
    mergeLines(lines)
      .sort((x, y) => (x.sku < y.sku ? -1 : 1))
      .map((l) => `${l.sku}:${l.qty}`)
      .join(',');
  return key(a) === key(b);
}

export const shortReason = (sku: string, requested: number, available: number) =>
  `not enough stock of SKU ${sku}: ${requested} requested, ${available} available`;

export const unknownSkuReason = (sku: string) => `unknown SKU ${sku}`;

// ─── HTTP ──────────────────────────────────────────────────────────────────────────────────────────────────────

export const InventoryErrorCode = {
  SKU_NOT_FOUND: 'SKU_NOT_FOUND',
  RESERVATION_NOT_FOUND: 'RESERVATION_NOT_FOUND',
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  /** The order already has a reservation for other lines. */
  RESERVATION_CONFLICT: 'RESERVATION_CONFLICT',
  /** The reservation was released (or committed) and cannot change again. */
  RESERVATION_CLOSED: 'RESERVATION_CLOSED',
  /** A commit of a reservation that is not reserved (still holding, rejected, released). */
  NOT_RESERVED: 'NOT_RESERVED',
  /** The actor did not settle in time (the command stays queued and will be applied). */
  INVENTORY_BUSY: 'INVENTORY_BUSY',
} as const;

const LineSchema = lineSchema(MAX_LINE_QTY, 'Units');

export const SkuParams = t.Object({ sku: SkuCode() });
export const OrderIdParams = t.Object({ orderId: OrderId() });

export const RestockBody = t.Object({ qty: t.Integer({ minimum: 1, maximum: 100_000, description: 'Units to add to on-hand stock' }) }, { examples: [{ qty: 10 }] });
export const RestockHeaders = t.Object({
  'idempotency-key': t.Optional(t.String({ minLength: 1, maxLength: 128, description: 'Repeat-safe: the same key restocks once' })),
});

export const ReserveBody = t.Object(
  {
    orderId: OrderId(),
    lines: t.Array(LineSchema, { minItems: 1, maxItems: MAX_LINES, description: 'Lines with the same SKU are merged' }),
  },
  { examples: [{ orderId: EXAMPLE.orderId, lines: [{ sku: EXAMPLE.sku, qty: 2 }] }] },
);

export const SkuViewSchema = t.Object({
  sku: SkuCode(),
  name: t.String(),
  price: t.Integer({ description: 'Unit price in cents' }),
  onHand: t.Integer(),
  reserved: t.Integer({ description: 'Units held for orders not yet committed or released' }),
  shipped: t.Integer(),
});
export type SkuView = typeof SkuViewSchema.static;

export const SkuListSchema = t.Object({ items: t.Array(SkuViewSchema) }, { description: 'Every listed SKU, by code' });

const ReservationStateField = t.Union([
  t.Literal('idle'),
  t.Literal('holding'),
  t.Literal('reserved'),
  t.Literal('rejected'),
  t.Literal('released'),
  t.Literal('committed'),
]);

export const ReservationViewSchema = t.Object({
  orderId: t.String(),
  state: ReservationStateField,
  lines: t.Array(t.Object({ sku: t.String(), qty: t.Integer() })),
  reason: t.Optional(t.String()),
});
export type ReservationView = typeof ReservationViewSchema.static;

export const ReservationStateSchema = t.Object({ orderId: t.String(), state: ReservationStateField });

export function skuView(c: SkuContext): SkuView {
  const reserved = Object.values(c.reserved).reduce((n, q) => n + q, 0);
  return { sku: c.sku, name: c.name, price: c.price, onHand: c.onHand, reserved, shipped: c.shipped };
}

export function reservationView(state: string, c: ReservationContext): ReservationView {
  const view: ReservationView = { orderId: c.orderId, state: state as ReservationState, lines: c.lines };
  if (c.reason) view.reason = c.reason;
  return view;
}
