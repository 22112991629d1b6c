/**
 * The shop's starting catalogue and how it gets into the SKU actors. Seeding sends `sku.seed` to each SKU; a SKU
 * that is already listed ignores it, so seeding on every start (or from several replicas at once) is harmless and
 * never resets stock that orders have moved since.
 */
import type { MailroomNode } from '../../runtime/index.ts';
import { skuAddress } from './protocol.ts';

export type CatalogueItem = { sku: string; name: string; price: number; stock: number };

/** Prices in cents. SCALE-5KG starts nearly sold out, so a short reservation is easy to show. */
export const CATALOGUE: readonly CatalogueItem[] = [
  { sku: 'ENV-C5-100', name: 'C5 envelopes, pack of 100', price: 1299, stock: 200 },
  { sku: 'ENV-DL-50', name: 'DL envelopes, pack of 50', price: 749, stock: 300 },
  { sku: 'BOX-S', name: 'Shipping box, small', price: 199, stock: 500 },
  { sku: 'BOX-M', name: 'Shipping box, medium', price: 299, stock: 400 },
  { sku: 'BOX-L', name: 'Shipping box, large', price: 449, stock: 250 },
  { sku: 'TAPE-48', name: 'Packing tape, 48 mm × 66 m', price: 399, stock: 600 },
  { sku: 'BUBBLE-10M', name: 'Bubble wrap, 10 m roll', price: 1099, stock: 120 },
  { sku: 'LABEL-A4-100', name: 'Address labels, 100 A4 sheets', price: 1599, stock: 150 },
  { sku: 'STAMP-1ST-12', name: 'First-class stamps, book of 12', price: 1620, stock: 80 },
  { sku: 'FRAGILE-250', name: 'Fragile stickers, roll of 250', price: 899, stock: 90 },
  { sku: 'MARKER-BLK', name: 'Permanent marker, black', price: 149, stock: 1000 },
  { sku: 'SCALE-5KG', name: 'Parcel scale, 5 kg', price: 2499, stock: 5 },
];

/**
 * Lists every catalogue item that is not listed yet; resolves once each SKU has committed its seed turn.
 *
 * @example
 * await seedCatalogue(node); // a second call changes nothing
 */
export async function seedCatalogue(node: MailroomNode, items: readonly CatalogueItem[] = CATALOGUE, timeoutMs = 10_000): Promise<void> {
  await Promise.all(
    items.map((item) => node.ask(skuAddress(item.sku), { type: 'sku.seed', name: item.name, price: item.price, stock: item.stock }, { timeoutMs })),
  );
}
