/**
 * The shop's vocabulary, defined once for every service and the gateway: what an order id, a SKU code and a
 * country code look like, the countries the shop ships to, the customer, address and line of an order, the order as
 * the order service shows it (the gateway passes it on), and the example values the API documents use (each one
 * valid under its rule, and each naming something the seeded shop has, so a Swagger UI "Try it out" with the
 * examples works as it is). Services never import each other: what two of them must agree on lives here.
 */
import { t, type Static } from 'elysia';

/**
 * An order id: letters, digits, `_` and `-`, at most 64, not starting with a separator. The gateway derives ids of
 * this shape from an Idempotency-Key (`ord-<32 hex>`); every service accepts exactly these, and no other.
 */
export const ORDER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** A SKU code: upper-case letters, digits and dashes, 2–32 long. */
export const SKU_PATTERN = '^[A-Z0-9-]{2,32}$';
/** ISO 3166-1 alpha-2, upper case. */
export const COUNTRY_PATTERN = '^[A-Z]{2}$';

/** The countries a carrier serves (shipping has one carrier per country); an order to any other is compensated. */
export const SHIPPING_COUNTRIES = ['GB', 'FR', 'DE', 'NL', 'US'] as const;
export type ShippingCountry = (typeof SHIPPING_COUNTRIES)[number];

/** Lines in one order (and so in one reservation and one shipment), at most. */
export const MAX_ORDER_LINES = 50;
/** Units of one SKU a customer may order in one line. */
export const MAX_ORDER_QTY = 1000;

/** Example values for the API documents. */
export const EXAMPLE = {
  orderId: 'ord-0123456789abcdef0123456789abcdef',
  sku: 'BOX-M',
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  address: { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', country: 'GB' },
} as const;

/**
 * An order id, as a schema (with its description and example).
 *
 * @example
 * params: t.Object({ orderId: OrderId() })
 */
export const OrderId = (description = 'The order id') => t.String({ pattern: ORDER_ID_PATTERN, description, examples: [EXAMPLE.orderId] });

/**
 * A SKU code, as a schema (with its description and example).
 *
 * @example
 * params: t.Object({ sku: SkuCode() })
 */
export const SkuCode = (description = 'A SKU code from the catalogue (upper-case letters, digits and dashes, 2–32 long)') =>
  t.String({ pattern: SKU_PATTERN, description, examples: [EXAMPLE.sku] });

/**
 * A country code, as a schema.
 *
 * @example
 * country: CountryCode('ISO 3166-1 alpha-2; shipping serves GB, FR, DE, NL, US')
 */
export const CountryCode = (description = 'ISO 3166-1 alpha-2 code, upper case (GB, FR, US, …)') =>
  t.String({ pattern: COUNTRY_PATTERN, description, examples: [EXAMPLE.address.country] });

/**
 * A customer, as a schema.
 *
 * @example
 * body: t.Object({ customer: CustomerSchema })
 */
export const CustomerSchema = t.Object({
  name: t.String({ minLength: 1, maxLength: 100, description: 'Who the order is for' }),
  email: t.String({ format: 'email', maxLength: 254, description: 'Where confirmations go' }),
});
export type Customer = Static<typeof CustomerSchema>;

const NonEmpty = (description: string, maxLength: number) => t.String({ minLength: 1, maxLength, description });

/** Where an order ships to, as a schema. */
export const ShippingAddressSchema = t.Object({
  name: NonEmpty('Recipient', 100),
  line1: NonEmpty('Street and number', 200),
  city: NonEmpty('City', 100),
  country: CountryCode(`ISO 3166-1 alpha-2 code; served: ${SHIPPING_COUNTRIES.join(', ')}`),
});
export type ShippingAddress = Static<typeof ShippingAddressSchema>;

/**
 * An order line (a SKU and its units), as a schema; `maxQty` is the caller's bound (a customer's line, or a
 * reservation's merged units).
 *
 * @example
 * lines: t.Array(lineSchema(MAX_ORDER_QTY), { minItems: 1, maxItems: MAX_ORDER_LINES })
 */
export const lineSchema = (maxQty: number, qtyDescription?: string) =>
  t.Object({ sku: SkuCode(), qty: t.Integer({ minimum: 1, maximum: maxQty, ...(qtyDescription ? { description: qtyDescription } : {}) }) });
export type Line = Static<ReturnType<typeof lineSchema>>;

/** An order's line with the unit price it was ordered at. */
export const OrderLineSchema = t.Object({
  ...lineSchema(MAX_ORDER_QTY).properties,
  price: t.Integer({ minimum: 0, description: 'Unit price in cents' }),
});
export type OrderLine = Static<typeof OrderLineSchema>;

/** An order's state as the order service shows it (a `draft` is never shown: it is not an order yet). */
export const OrderViewStateSchema = t.Union([t.Literal('pending'), t.Literal('confirmed'), t.Literal('cancelled')]);

/** An order as the order service shows it, and the gateway passes it on. */
export const OrderViewSchema = t.Object({
  orderId: OrderId(),
  state: OrderViewStateSchema,
  customer: CustomerSchema,
  lines: t.Array(OrderLineSchema),
  address: ShippingAddressSchema,
  total: t.Integer({ description: 'Σ qty × price, in cents' }),
  reason: t.Optional(t.String({ description: 'Why the order was cancelled' })),
  createdAt: t.Number({ description: 'ms since the epoch' }),
  updatedAt: t.Number(),
});
export type OrderView = Static<typeof OrderViewSchema>;
