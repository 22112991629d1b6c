/**
 * The prices the gateway charges, kept once read. A listed SKU's price never changes — the `sku` actor takes its
 * price when it is listed and has no message that changes it (seeding a listed SKU again changes nothing:
 * `services/inventory/sku.machine.ts`) — so an order is priced without a call to inventory per SKU, once each SKU
 * has been seen. What is kept is only what inventory answered 200 for: an unknown SKU (404) may be listed later, and
 * a failure is the caller's to handle. A price is read again after `ttlMs`, so a catalogue re-seeded with other
 * prices on an emptied Redis reaches the gateway within that time. At most one entry per listed SKU.
 */
import type { Reply } from './downstreams.ts';

type Fetch = (sku: string) => Promise<Reply>;

export class PriceBook {
  private readonly known = new Map<string, { price: number; until: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * The price of each SKU, read through `fetch` where not kept: `prices` holds the known ones; `replies` the
   * inventory replies that were not a price (404 for an unknown SKU, another status for a failure), by SKU.
   */
  async lookUp(skus: readonly string[], fetch: Fetch): Promise<{ prices: Map<string, number>; replies: Map<string, Reply> }> {
    const prices = new Map<string, number>();
    const replies = new Map<string, Reply>();
    const now = this.now();
    const missing = skus.filter((sku) => {
      const kept = this.known.get(sku);
      if (kept && kept.until > now) prices.set(sku, kept.price);
      return !prices.has(sku);
    });
    const fetched = await Promise.all(missing.map(fetch));
    missing.forEach((sku, i) => {
      const reply = fetched[i]!;
      const price = reply.status === 200 ? (reply.body as { price?: unknown }).price : undefined;
      if (typeof price === 'number' && Number.isInteger(price) && price >= 0) {
        prices.set(sku, price);
        this.known.set(sku, { price, until: now + this.ttlMs });
      } else replies.set(sku, reply);
    });
    return { prices, replies };
  }
}
