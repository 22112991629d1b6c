import { describe, expect, it } from 'bun:test';
import { PriceBook } from '../../services/gateway/price-book.ts';

/** The gateway's price book with a fetch that answers as inventory would, counting what it is asked. */
function inventory(prices: Record<string, unknown>, status: Record<string, number> = {}) {
  const asked: string[] = [];
  const fetch = async (sku: string) => {
    asked.push(sku);
    if (status[sku]) return { status: status[sku]!, body: { code: 'X', message: 'no' } };
    return sku in prices ? { status: 200, body: { sku, price: prices[sku] } } : { status: 404, body: { code: 'SKU_NOT_FOUND', message: 'no such SKU' } };
  };
  return { asked, fetch };
}

describe('PriceBook', () => {
  it('reads a listed SKU once and answers from memory after', async () => {
    const book = new PriceBook();
    const inv = inventory({ A: 100, B: 250 });
    const first = await book.lookUp(['A', 'B'], inv.fetch);
    expect([...first.prices]).toEqual([['A', 100], ['B', 250]]);
    const second = await book.lookUp(['B', 'A'], inv.fetch);
    expect([...second.prices].sort()).toEqual([['A', 100], ['B', 250]]);
    expect(inv.asked).toEqual(['A', 'B']);
  });

  it('keeps neither an unknown SKU nor a failure nor a reply without a valid price: each is asked again', async () => {
    const book = new PriceBook();
    const inv = inventory({ A: 100, BAD: 'free', NEG: -1 }, { DOWN: 503 });
    for (let i = 0; i < 2; i++) {
      const got = await book.lookUp(['A', 'GONE', 'DOWN', 'BAD', 'NEG'], inv.fetch);
      expect([...got.prices]).toEqual([['A', 100]]);
      expect([...got.replies].map(([sku, r]) => [sku, r.status])).toEqual([['GONE', 404], ['DOWN', 503], ['BAD', 200], ['NEG', 200]]);
    }
    expect(inv.asked).toEqual(['A', 'GONE', 'DOWN', 'BAD', 'NEG', 'GONE', 'DOWN', 'BAD', 'NEG']);
  });

  it('reads a price again once it is older than its time to live', async () => {
    let now = 0;
    const book = new PriceBook(60_000, () => now);
    const inv = inventory({ A: 100 });
    await book.lookUp(['A'], inv.fetch);
    now = 59_999;
    await book.lookUp(['A'], inv.fetch);
    expect(inv.asked).toEqual(['A']);
    now = 60_000;
    await book.lookUp(['A'], inv.fetch);
    expect(inv.asked).toEqual(['A', 'A']);
  });
});
