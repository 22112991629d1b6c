/**
 * What `bench saga` orders, and how `--vs restate` compares: the one place both systems' load comes from, and the
 * ratios the JSON reports. Pure functions, so a test can hold them.
 *
 * The plain bench orders one unit of one SKU (SKUs in turn), shipped to GB. With `--vs restate` both systems get the
 * mix the comparison asks for: 1–3 SKUs per order, and every 10th order shipped to a country no carrier serves, so
 * ~10 % of sagas fail at shipping and compensate in reverse (cancel shipment, refund, release stock, cancel order).
 */

export type BenchLine = { sku: string; qty: number };
export type BenchOrder = { lines: BenchLine[]; country: string };

/** A country no carrier serves (services/shipping/carriers.ts ships to GB, FR, DE, NL, US). */
export const UNSERVED_COUNTRY = 'JP';

/**
 * Order `i` of a run. `mixed`: 1 + (i mod 3) distinct SKUs starting at SKU i, and every 10th order (i mod 10 = 9) to
 * an unserved country; otherwise one unit of SKU i, to GB.
 */
export function benchOrder(i: number, skus: readonly string[], mixed: boolean): BenchOrder {
  if (skus.length === 0) throw new Error('no SKUs to order');
  if (!mixed) return { lines: [{ sku: skus[i % skus.length]!, qty: 1 }], country: 'GB' };
  const count = Math.min(skus.length, 1 + (i % 3));
  const lines = Array.from({ length: count }, (_, k) => ({ sku: skus[(i + k) % skus.length]!, qty: 1 }));
  return { lines, country: i % 10 === 9 ? UNSERVED_COUNTRY : 'GB' };
}

/** One system's figures that the ratios need: peak confirmed sagas/s, and p99 ms per arrival rate. */
export type SystemFigures = { peakPerSec: number; p99MsByRate: ReadonlyMap<number, number> };

export type VsRestate = {
  /** Mailroom's peak ÷ Restate's: above 1, Mailroom completes more sagas per second. */
  peak: number | null;
  /** Restate's p99 ÷ Mailroom's at 50/s: above 1, Mailroom's tail is shorter. */
  p99At50: number | null;
  p99At200: number | null;
};

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Math.round((a / b) * 100) / 100 : null;

/** The `ratios.vsRestate` of the JSON, from two systems measured at the same durability. null: a side has no figure. */
export function vsRestate(mailroom: SystemFigures, restate: SystemFigures): VsRestate {
  return {
    peak: ratio(mailroom.peakPerSec, restate.peakPerSec),
    p99At50: ratio(restate.p99MsByRate.get(50), mailroom.p99MsByRate.get(50)),
    p99At200: ratio(restate.p99MsByRate.get(200), mailroom.p99MsByRate.get(200)),
  };
}
