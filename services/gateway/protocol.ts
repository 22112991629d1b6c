/**
 * The gateway's public protocol, declared before anything uses it: the `/api/*` request and response schemas, the
 * error codes, and the names of the services it calls. The gateway owns no actors; what it says about an order it
 * learns from the services' own APIs, in parallel, and says which parts it could not get.
 */
import { t, type Static } from 'elysia';
import { pageLimit, type DocumentTag } from '../../runtime/http/index.ts';
import {
  CustomerSchema,
  EXAMPLE,
  lineSchema,
  MAX_ORDER_LINES,
  MAX_ORDER_QTY,
  OrderId,
  OrderViewSchema,
  OrderViewStateSchema,
  ShippingAddressSchema,
  SkuCode,
} from '../shared/shop-vocabulary.ts';

/** What the gateway's OpenAPI document says first, and its tags. */
export const GATEWAY_API = {
  description:
    'The public API of the shop: place and follow orders, read the catalogue, restock. Every answer about an order is gathered from the services behind it (order, inventory, payment, shipping), each behind its own circuit breaker: a service that cannot answer is a 503 DEPENDENCY_UNAVAILABLE with Retry-After, or a part left out and named in `degraded`.',
  tags: [
    { name: 'orders', description: 'Place an order (fulfilled by a saga: reserve stock, charge, ship) and follow it' },
    { name: 'sagas', description: 'The fulfillment sagas, read-only (operators act on them through the order service or the control plane)' },
    { name: 'catalogue', description: 'SKUs, prices and stock; reads go through the strangler fig (legacy handler or inventory service, by weight)' },
    { name: 'admin', description: 'The strangler fig’s weight and every dependency’s circuit breaker' },
  ] satisfies DocumentTag[],
};

// The shop's own routes, each with at most one parameter; restocking, the strangler dial and the breakers are not.
const PUBLIC_PATH = /^\/api\/(?:health|(?:orders|sagas|catalogue)(?:\/[^/]+)?)\/?$/;

/**
 * Whether a path is the shop's public face when the gateway is exposed (orders, sagas and catalogue reads, and
 * `/api/health`): anyone may call it. Restocking (`/api/catalogue/:sku/restock`), the strangler dial and the
 * breakers (`/api/admin/*`, `/api/breakers`) and `/metrics` want the service credential.
 *
 * @example
 * isPublicPath('/api/orders'); // true
 * isPublicPath('/api/catalogue/BOX-S/restock'); // false
 */
export function isPublicPath(path: string): boolean {
  return PUBLIC_PATH.test(path);
}

/** The services behind the gateway: each is one dependency of its HTTP client, with its own breaker. */
export const DOWNSTREAMS = ['order', 'inventory', 'payment', 'shipping'] as const;
export type Downstream = (typeof DOWNSTREAMS)[number];

/** The parts of an order view besides the order itself, by the dependency that holds each. */
export const ORDER_PARTS = { reservation: 'inventory', payment: 'payment', shipment: 'shipping', saga: 'order' } as const satisfies Record<string, Downstream>;
export type OrderPart = keyof typeof ORDER_PARTS;


export const GatewayErrorCode = {
  /** A service the answer needs is down, slow, or behind an open breaker. */
  dependencyUnavailable: 'DEPENDENCY_UNAVAILABLE',
  unknownSku: 'UNKNOWN_SKU',
  /** An Idempotency-Key already used for a different order. */
  keyReused: 'IDEMPOTENCY_KEY_REUSED',
  orderNotFound: 'ORDER_NOT_FOUND',
  sagaNotFound: 'SAGA_NOT_FOUND',
  skuNotFound: 'SKU_NOT_FOUND',
} as const;

// ── Orders ────────────────────────────────────────────────────────────────────────────────────────────────────

export const PlaceOrderBodySchema = t.Object({
  customer: CustomerSchema,
  lines: t.Array(lineSchema(MAX_ORDER_QTY), { minItems: 1, maxItems: MAX_ORDER_LINES, description: 'Priced by the gateway from the catalogue' }),
  address: ShippingAddressSchema,
}, { examples: [{ customer: EXAMPLE.customer, lines: [{ sku: EXAMPLE.sku, qty: 2 }], address: EXAMPLE.address }] });
export type PlaceOrderBody = Static<typeof PlaceOrderBodySchema>;

export const PlaceOrderHeadersSchema = t.Object({
  'idempotency-key': t.Optional(
    t.String({ pattern: '^[\\x21-\\x7E]{8,128}$', description: 'Retry-safe: the same key always means the same order (8–128 visible ASCII characters)' }),
  ),
});

export const OrderAcceptedSchema = t.Object({
  orderId: OrderId(),
  state: t.String({ description: 'The order’s state when accepted (pending until the saga settles it)' }),
  links: t.Object({ self: t.String({ description: 'Where to follow the order: GET it for its parts as they settle' }) }),
});

export const OrderIdParamsSchema = t.Object({ id: OrderId() });

export const ListOrdersQuerySchema = t.Object({
  // The order service checks the range and names the field; Elysia would not name it here (see the order service).
  limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Orders per page'),
  cursor: t.Optional(t.String({ maxLength: 200 })),
  state: t.Optional(OrderViewStateSchema),
});

// The order as the order service shows it (the shop's one order schema, OrderViewSchema); passed through as it is.
export const OrderPageSchema = t.Object({ items: t.Array(OrderViewSchema), cursor: t.Union([t.String(), t.Null()]) });

// The parts are passed through as their services show them: the fields the contracts name are documented, the
// rest kept, and a field a service adds later neither lost nor able to turn the whole view into a 500.
const passThrough = { additionalProperties: true } as const;
const ReservationSchema = t.Object(
  {
    orderId: t.String(),
    state: t.String({ description: 'idle, holding, reserved, rejected, released, committed' }),
    lines: t.Optional(t.Array(t.Object({ sku: t.String(), qty: t.Integer() }))),
    reason: t.Optional(t.String()),
  },
  passThrough,
);
const PaymentSchema = t.Object(
  {
    orderId: t.String(),
    state: t.String({ description: 'idle, charging, charged, declined, failed, refunding, refunded, voided' }),
    amount: t.Optional(t.Integer({ description: 'Cents' })),
    chargeId: t.Optional(t.String()),
    refundId: t.Optional(t.String()),
    reason: t.Optional(t.String()),
  },
  passThrough,
);
const ShipmentSchema = t.Object(
  {
    orderId: t.String(),
    state: t.String({ description: 'idle, scheduled, rejected, cancelled' }),
    trackingId: t.Optional(t.String()),
    reason: t.Optional(t.String()),
  },
  passThrough,
);

const SagaLogEntrySchema = t.Object(
  {
    at: t.Number(),
    step: t.String(),
    phase: t.String({ description: 'started, succeeded, failed, timedOut, retrying, compensating, compensated, parked, completed' }),
    durationMs: t.Optional(t.Number()),
    reason: t.Optional(t.String()),
  },
  passThrough,
);
/** The order's fulfillment saga as the order service shows it (`GET /sagas/:orderId` there). */
const SagaSchema = t.Object(
  {
    orderId: t.String(),
    status: t.String({ description: 'running, compensating, completed, compensated or parked' }),
    step: t.String({ description: 'The machine state it is in: a step, undo<Step>, completed, compensated or failedNeedsOperator' }),
    reason: t.Optional(t.String({ description: 'Why it compensated' })),
    log: t.Array(SagaLogEntrySchema),
  },
  passThrough,
);

const nothingYet = (schema: ReturnType<typeof t.Object>, what: string) =>
  t.Optional(t.Union([schema, t.Null()], { description: `null: no ${what} yet; absent: its service did not answer (see degraded)` }));

export const OrderDetailSchema = t.Object({
  orderId: t.String(),
  order: OrderViewSchema,
  reservation: nothingYet(ReservationSchema, 'reservation'),
  payment: nothingYet(PaymentSchema, 'payment'),
  shipment: nothingYet(ShipmentSchema, 'shipment'),
  saga: nothingYet(SagaSchema, 'saga'),
  degraded: t.Array(t.Union([t.Literal('reservation'), t.Literal('payment'), t.Literal('shipment'), t.Literal('saga')]), {
    description: 'Parts left out because their service was unavailable; empty when the view is complete',
  }),
});
export type OrderDetail = Static<typeof OrderDetailSchema>;

// ── Sagas (the operator's read-only view, passed through from the order service) ─────────────────────────────

export const SagaIdParamsSchema = t.Object({ orderId: OrderId('The order the saga fulfils') });

export const ListSagasQuerySchema = t.Object({
  status: t.Optional(t.Union([t.Literal('running'), t.Literal('compensating'), t.Literal('completed'), t.Literal('compensated'), t.Literal('parked')])),
  // The order service checks the range and names the field.
  limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Sagas per page'),
  cursor: t.Optional(t.String({ maxLength: 200 })),
});

export const SagaDetailSchema = SagaSchema;
export const SagaPageSchema = t.Object(
  { items: t.Array(t.Object({ orderId: t.String(), status: t.String(), step: t.String() }, passThrough)), cursor: t.Union([t.String(), t.Null()], { description: 'Pass back for the next page; null on the last one' }) },
  { description: 'One page of saga summaries' },
);

// ── Catalogue ─────────────────────────────────────────────────────────────────────────────────────────────────

export const CATALOGUE_SOURCES = ['legacy', 'inventory'] as const;
export type CatalogueSource = (typeof CATALOGUE_SOURCES)[number];

/** One item as the shop front sees it, whichever system served it. */
export const CatalogueItemSchema = t.Object({
  sku: t.String(),
  name: t.String(),
  price: t.Integer({ description: 'Unit price in cents' }),
  available: t.Integer({ description: 'Units on hand (the legacy snapshot’s figure may be stale)' }),
});
export type CatalogueItem = Static<typeof CatalogueItemSchema>;

export const CatalogueSchema = t.Object({
  source: t.Union([t.Literal('legacy'), t.Literal('inventory')], { description: 'Which system served this response (also the x-served-by header)' }),
  items: t.Array(CatalogueItemSchema),
});

export const SkuParamsSchema = t.Object({ sku: SkuCode() });

export const StockSchema = t.Object({
  sku: t.String(),
  name: t.String(),
  price: t.Integer({ description: 'Unit price in cents' }),
  available: t.Integer(),
  onHand: t.Integer(),
  reserved: t.Integer({ description: 'Held for orders in progress' }),
  shipped: t.Integer(),
});

/** One SKU as `GET /api/catalogue/{sku}` shows it: the catalogue item, with live stock when inventory served it. */
export const SkuItemSchema = t.Object({
  source: t.Union([t.Literal('legacy'), t.Literal('inventory')], { description: 'Which system served this response (also the x-served-by header)' }),
  sku: t.String(),
  name: t.String(),
  price: t.Integer({ description: 'Unit price in cents' }),
  available: t.Integer({ description: 'Units on hand (the legacy snapshot’s figure may be stale)' }),
  onHand: t.Optional(t.Integer({ description: 'Inventory only' })),
  reserved: t.Optional(t.Integer({ description: 'Held for orders in progress (inventory only)' })),
  shipped: t.Optional(t.Integer({ description: 'Inventory only' })),
});

export const RestockBodySchema = t.Object({ qty: t.Integer({ minimum: 1, maximum: 100_000, description: 'Units to add' }) }, { examples: [{ qty: 10 }] });
export const RestockHeadersSchema = t.Object({
  'idempotency-key': t.Optional(t.String({ minLength: 1, maxLength: 128, description: 'Passed to inventory: the same key restocks once', examples: ['restock-box-m-1'] })),
});

// ── Strangler fig and breakers ────────────────────────────────────────────────────────────────────────────────

export const StranglerBodySchema = t.Object(
  { weight: t.Integer({ minimum: 0, maximum: 100, description: 'Percent of catalogue reads (GET /api/catalogue and GET /api/catalogue/{sku}) served by the inventory service' }) },
  { examples: [{ weight: 0 }] },
);

export const StranglerViewSchema = t.Object({
  route: t.String({ description: 'The routes the weight moves' }),
  weight: t.Integer(),
  updatedAt: t.Union([t.Number(), t.Null()], { description: 'When the weight was last set; null while it is the default' }),
  stale: t.Boolean({ description: 'true when Redis could not be read and the weight shown is the last one known' }),
}, { description: 'The strangler fig’s weight' });

export const BreakersSchema = t.Record(t.String(), t.Unknown(), { description: 'Every dependency’s breaker and bulkhead stats, by name' });
