/**
 * Which carrier serves which destination, and the tracking ids they hand out. A tracking id is derived from the
 * order id, so scheduling the same order again (or re-running its turn after a crash) always yields the same id.
 */
import type { ShippingCountry } from '../shared/shop-vocabulary.ts';

export type Carrier = { name: string; code: string };

/** The carrier of each country the shop ships to (`SHIPPING_COUNTRIES`, every one); every other country is refused. */
export const CARRIERS: Readonly<Record<ShippingCountry, Carrier>> = {
  GB: { name: 'Royal Mail', code: 'RM' },
  FR: { name: 'Colissimo', code: 'CO' },
  DE: { name: 'DHL', code: 'DH' },
  NL: { name: 'PostNL', code: 'PN' },
  US: { name: 'USPS', code: 'US' },
};

export function carrierFor(country: string): Carrier | undefined {
  return Object.hasOwn(CARRIERS, country) ? CARRIERS[country as ShippingCountry] : undefined;
}

/** `RM` + 10 characters, stable per order: `RM4K2ZQ0X7PB`. */
export function trackingIdFor(carrier: Carrier, orderId: string): string {
  const digest = Bun.hash.wyhash(`shipment:${orderId}`).toString(36).toUpperCase();
  return `${carrier.code}${digest.padStart(10, '0').slice(-10)}`;
}
