/**
 * Rolling time series for the charts: samples (time in seconds, one value per line) kept for a window, in the
 * column layout uPlot draws ([xs, ys1, ys2…]).
 */

export class RollingSeries {
  private xs: number[] = [];
  private ys: (number | null)[][];

  constructor(
    readonly lines: number,
    /** How much history to keep, in seconds. */
    readonly windowS = 300,
  ) {
    this.ys = Array.from({ length: lines }, () => []);
  }

  /** Adds a sample at `atMs` (ms since the epoch); samples older than the window fall off. */
  push(atMs: number, values: (number | null | undefined)[]): void {
    const t = atMs / 1000;
    const last = this.xs[this.xs.length - 1];
    if (last !== undefined && t <= last) return; // time only moves forward on a chart
    this.xs.push(t);
    for (let i = 0; i < this.lines; i++) {
      const v = values[i];
      this.ys[i]!.push(v === undefined || v === null || !Number.isFinite(v) ? null : v);
    }
    let drop = 0;
    while (drop < this.xs.length && this.xs[drop]! < t - this.windowS) drop++;
    if (drop > 0) {
      this.xs.splice(0, drop);
      for (const y of this.ys) y.splice(0, drop);
    }
  }

  /** Replaces every sample with `points` (ms since the epoch, oldest first): a series the server keeps. */
  replace(points: readonly { at: number; values: readonly (number | null | undefined)[] }[]): void {
    this.xs = [];
    this.ys = Array.from({ length: this.lines }, () => []);
    for (const p of points) this.push(p.at, p.values as (number | null | undefined)[]);
  }

  get size(): number {
    return this.xs.length;
  }

  /** A fresh copy in uPlot's layout. */
  data(): [number[], ...(number | null)[][]] {
    return [this.xs.slice(), ...this.ys.map((y) => y.slice())];
  }

  latest(line = 0): number | null {
    return this.ys[line]?.[this.ys[line]!.length - 1] ?? null;
  }
}
