/**
 * The legacy side of the strangler fig: the catalogue as the old system knew it, from a snapshot of its product
 * table (`legacy-catalogue.json`, in its own field names), adapted to the gateway's public item shape. It is what
 * `GET /api/catalogue` served before the inventory service existed, and still serves for the share of requests the
 * strangler's weight leaves to it.
 */
import snapshot from './legacy-catalogue.json';
import type { CatalogueItem } from './protocol.ts';

type LegacyProduct = { code: string; title: string; unitPricePence: number; stockLevel: number };

/** The old system's product, as the shop front sees an item. */
const toItem = (product: LegacyProduct): CatalogueItem => ({
  sku: product.code,
  name: product.title,
  price: product.unitPricePence,
  available: product.stockLevel,
});

const items: readonly CatalogueItem[] = (snapshot.products as LegacyProduct[]).map(toItem);

/**
 * The legacy catalogue.
 *
 * @example
 * legacyCatalogue().length; // 12
 */
export function legacyCatalogue(): CatalogueItem[] {
  return items.map((item) => ({ ...item }));
}
