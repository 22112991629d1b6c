/**
 * The shop's vocabulary, defined once for every service and the gateway: what an order id, a SKU code and a
 * country code look like, and the example values the API documents use (each one valid under its rule, and each
 * naming something the seeded shop has, so a Swagger UI "Try it out" with the examples works as it is).
 */
import { t } from 'elysia';

/**
 * An order id: letters, digits, `_` and `-`, at most 64, not starting with a separator. The gateway derives ids of
 * this shape from an Idempotency-Key (`ord-<32 hex>`); every service accepts exactly these, and no other.
 */
export const ORDER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** A SKU code: upper-case letters, digits and dashes, 2–32 long. */
export const SKU_PATTERN = '^[A-Z0-9-]{2,32}$';
/** ISO 3166-1 alpha-2, upper case. */
export const COUNTRY_PATTERN = '^[A-Z]{2}$';

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
