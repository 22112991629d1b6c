/**
 * The order service's protocol, declared before anything uses it: the `order` actor's messages and the replies it
 * tells a saga, the domain events it publishes, the HTTP schemas of its routes, and its error codes. An order is
 * `order/order/<orderId>`; amounts are integer cents.
 */
import { t, type Static } from 'elysia';
import { pageLimit, type DocumentTag } from '../../runtime/http/index.ts';
import {
  CustomerSchema,
  EXAMPLE,
  MAX_ORDER_LINES,
  MAX_ORDER_QTY,
  OrderId,
  OrderLineSchema,
  OrderViewSchema,
  OrderViewStateSchema,
  ShippingAddressSchema,
  type Customer,
  type OrderLine,
  type ShippingAddress,
} from '../shared/shop-vocabulary.ts';

// The order's parts are the shop's vocabulary (the gateway speaks it too); the order service re-exports them.
export { CustomerSchema, OrderLineSchema, OrderViewSchema, ShippingAddressSchema };
export type { Customer, OrderLine, OrderView, ShippingAddress } from '../shared/shop-vocabulary.ts';

/** What the order service's OpenAPI document says first, and its tags. */
export const ORDER_API = {
  description:
    'Orders and their fulfillment sagas. An order is an actor (`order/order/<orderId>`); a create is idempotent by order id, and a 201 means it is committed. The gateway places orders here; operators act on parked sagas here.',
  tags: [
    { name: 'orders', description: 'Create an order (idempotent by id), page through them, read one' },
    { name: 'sagas', description: 'The fulfillment sagas the order service hosts: list by status, read one with its log, retry or resolve a parked one' },
  ] satisfies DocumentTag[],
};

export const SERVICE = 'order';

/** The actor type, and the address of one order. */
export const ORDER_ACTOR = 'order';
export const orderAddress = (orderId: string) => `${SERVICE}/${ORDER_ACTOR}/${orderId}`;

/** The fulfillment saga of an order (hosted by this service; defined in `sagas/order-fulfillment.ts` under this name). */
export const FULFILLMENT_SAGA = 'fulfillment';
export const fulfillmentAddress = (orderId: string) => `${SERVICE}/${FULFILLMENT_SAGA}/${orderId}`;

export const MAX_LINES = MAX_ORDER_LINES;
export const MAX_QTY = MAX_ORDER_QTY;
/** The largest order total accepted, in cents (1,000,000.00). Above the provider's decline limit on purpose. */
export const MAX_TOTAL = 100_000_000;

export const PAGE_LIMIT = { min: 1, max: 100, default: 20 } as const;

export const ORDER_STATES = ['draft', 'pending', 'confirmed', 'cancelled'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

// ── HTTP schemas ───────────────────────────────────────────────────────────────────────────────────────────────

export const CreateOrderBodySchema = t.Object({
  orderId: t.Optional(OrderId('Chosen by the caller to make the create idempotent; generated if absent')),
  customer: CustomerSchema,
  lines: t.Array(OrderLineSchema, { minItems: 1, maxItems: MAX_LINES }),
  address: ShippingAddressSchema,
}, { examples: [{ orderId: EXAMPLE.orderId, customer: EXAMPLE.customer, lines: [{ sku: EXAMPLE.sku, qty: 2, price: 299 }], address: EXAMPLE.address }] });

export const OrderIdParamsSchema = t.Object({ id: OrderId() });

export const ListOrdersQuerySchema = t.Object({
  // The range is checked by the route: Elysia reports a coerced query number out of its schema's range without the
  // field's name ("property is invalid"), and every error here must name its field. The document shows the bounds.
  limit: pageLimit(PAGE_LIMIT, 'Orders per page'),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
  state: t.Optional(OrderViewStateSchema),
});

export const OrderPageSchema = t.Object({
  items: t.Array(OrderViewSchema),
  cursor: t.Union([t.String(), t.Null()], { description: 'Pass back for the next page; null on the last one' }),
}, { description: 'One page of orders' });

export type CreateOrderBody = Static<typeof CreateOrderBodySchema>;

// ── The actor ─────────────────────────────────────────────────────────────────────────────────────────────────

export type OrderContext = {
  orderId: string;
  customer: Customer | null;
  lines: OrderLine[];
  address: ShippingAddress | null;
  total: number;
  reason?: string;
  createdAt: number;
  updatedAt: number;
};

/** Fields every command a saga sends may carry; the answer goes to `replyTo` with the same `commandId`. */
type Command = { replyTo?: string; commandId?: string };

export type OrderMessage =
  | ({ type: 'create'; orderId: string; customer: Customer; lines: OrderLine[]; address: ShippingAddress; total: number } & Command)
  | ({ type: 'confirm'; orderId?: string } & Command)
  | ({ type: 'cancel'; orderId?: string; reason: string } & Command);

/**
 * What the actor tells `replyTo` (and replies to an ask). A terminal order answers every later confirm or cancel
 * with the outcome that stands, so a late or repeated command learns the truth instead of changing it. A cancel
 * that arrives before the create (a saga compensating a create that timed out) cancels the draft, and the late
 * create then changes nothing.
 */
export type OrderReply =
  | { type: 'order.created'; orderId: string; commandId?: string; created: boolean }
  | { type: 'order.confirmed'; orderId: string; commandId?: string }
  | { type: 'order.cancelled'; orderId: string; commandId?: string; reason: string };

/** The answer to `create`: `created` is false when the order already existed (nothing changed). */
export type CreateReply = Extract<OrderReply, { type: 'order.created' }>;

/** Domain events on the order service's log; `OrderCreated` carries all a saga needs to fulfil the order. */
export type OrderEvent =
  | { type: 'OrderCreated'; orderId: string; customer: Customer; lines: OrderLine[]; address: ShippingAddress; total: number }
  | { type: 'OrderConfirmed'; orderId: string; total: number }
  | { type: 'OrderCancelled'; orderId: string; reason: string };

// ── Errors ────────────────────────────────────────────────────────────────────────────────────────────────────

export const OrderErrorCode = {
  notFound: 'ORDER_NOT_FOUND',
  /** The order id exists with different content. */
  idTaken: 'ORDER_ID_TAKEN',
  totalTooLarge: 'TOTAL_TOO_LARGE',
  invalidCursor: 'INVALID_CURSOR',
  /** The actor did not answer in time (Redis or the node is overloaded or down). */
  unavailable: 'ORDER_UNAVAILABLE',
} as const;
