import { describe, expect, it } from 'bun:test';
import { carrierFor } from '../../services/shipping/carriers.ts';
import { benchOrder, UNSERVED_COUNTRY, vsRestate } from './_orders.ts';

const SKUS = ['A1', 'B2', 'C3', 'D4', 'E5'];

describe('benchOrder', () => {
  it('should order one unit of the SKUs in turn, to a served country, in the plain bench', () => {
    const orders = Array.from({ length: 10 }, (_, i) => benchOrder(i, SKUS, false));
    expect(orders.map((o) => o.lines)).toEqual(Array.from({ length: 10 }, (_, i) => [{ sku: SKUS[i % 5]!, qty: 1 }]));
    expect(orders.every((o) => carrierFor(o.country) !== undefined)).toBe(true);
  });

  it('should reserve 1–3 distinct SKUs per order and send every 10th to a country no carrier serves, in the comparison', () => {
    const orders = Array.from({ length: 1000 }, (_, i) => benchOrder(i, SKUS, true));
    const sizes = new Set(orders.map((o) => o.lines.length));
    expect([...sizes].sort()).toEqual([1, 2, 3]);
    for (const o of orders) expect(new Set(o.lines.map((l) => l.sku)).size).toBe(o.lines.length);
    const failing = orders.filter((o) => carrierFor(o.country) === undefined);
    expect(failing.length).toBe(100);
    expect(failing.every((o) => o.country === UNSERVED_COUNTRY)).toBe(true);
  });

  it('should never repeat a SKU in an order when the catalogue is smaller than three', () => {
    expect(benchOrder(2, ['A1', 'B2'], true).lines).toEqual([
      { sku: 'A1', qty: 1 },
      { sku: 'B2', qty: 1 },
    ]);
  });
});

describe('vsRestate', () => {
  const mailroom = { peakPerSec: 300, p99MsByRate: new Map([[50, 40], [200, 100]]) };

  it("should divide Mailroom's peak by Restate's, and Restate's p99 by Mailroom's", () => {
    const restate = { peakPerSec: 75, p99MsByRate: new Map([[50, 500], [200, 4000]]) };
    expect(vsRestate(mailroom, restate)).toEqual({ peak: 4, p99At50: 12.5, p99At200: 40 });
  });

  it('should report null where a side has no figure at that rate', () => {
    const restate = { peakPerSec: 75, p99MsByRate: new Map([[50, 500]]) };
    expect(vsRestate(mailroom, restate)).toEqual({ peak: 4, p99At50: 12.5, p99At200: null });
    expect(vsRestate({ peakPerSec: NaN, p99MsByRate: new Map() }, restate).peak).toBeNull();
  });
});
