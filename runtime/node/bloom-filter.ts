/**
 * A set of strings in a few bits each, that may say "maybe" of a string never added but never "no" of one that was:
 * a Bloom filter that grows. Each layer holds up to its capacity at its own false-positive rate; when the newest is
 * full a layer twice its size, at half its rate, is added, so the rate over all layers stays under twice the first's
 * however many strings come (a scalable Bloom filter: Almeida et al., 2007). Strings are never removed.
 * Written here rather than taken from npm: `bloom-filters` 3 brings lodash, seedrandom, long, xxhashjs and
 * reflect-metadata along for what these few lines do with Bun's own hash.
 */

/** Bits a string takes in a layer at false-positive rate p: −ln p ÷ (ln 2)². */
const bitsPerEntry = (p: number) => -Math.log(p) / (Math.LN2 * Math.LN2);

class Layer {
  readonly bits: Uint32Array;
  readonly size: number;
  readonly probes: number;
  count = 0;

  constructor(
    readonly capacity: number,
    rate: number,
  ) {
    this.size = Math.max(64, Math.ceil(capacity * bitsPerEntry(rate)));
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
    this.probes = Math.max(1, Math.ceil(-Math.log2(rate)));
  }

  // Double hashing (Kirsch & Mitzenmacher): probe i is h1 + i·h2, as good as k independent hashes.
  add(h1: number, h2: number): void {
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

export class BloomFilter {
  private readonly layers: Layer[] = [];

  /**
   * @param capacity strings the first layer holds at `rate` (later layers double it)
   * @param rate the first layer's false-positive rate; over all layers it stays under 2 × rate
   *
   * @example
   * const seen = new BloomFilter(10_000, 0.005);
   * seen.add('order/o-1');
   * seen.has('order/o-1'); // true
   * seen.has('order/o-2'); // false (or, rarely, true)
   */
  constructor(
    private readonly capacity = 4_096,
    private readonly rate = 0.005,
  ) {
    if (!(capacity >= 1) || !(rate > 0 && rate < 1)) throw new Error(`a Bloom filter needs a capacity ≥ 1 and a rate in (0, 1), got ${capacity} and ${rate}`);
    this.layers.push(new Layer(capacity, rate));
  }

  add(value: string): void {
    const h1 = Bun.hash.murmur32v3(value, 0);
    // Odd, so that the probes of a layer whose size is a power of two still visit different bits.
    const h2 = Bun.hash.murmur32v3(value, 0x9e3779b9) | 1;
    if (this.layers.some((layer) => layer.has(h1, h2))) return;
    let last = this.layers[this.layers.length - 1]!;
    if (last.count >= last.capacity) {
      const n = this.layers.length;
      this.layers.push((last = new Layer(this.capacity * 2 ** n, this.rate / 2 ** n)));
    }
    last.add(h1, h2);
  }

  /** False: `value` was never added. True: it was, or (at about the filter's rate) it was not. */
  has(value: string): boolean {
    const h1 = Bun.hash.murmur32v3(value, 0);
    const h2 = Bun.hash.murmur32v3(value, 0x9e3779b9) | 1;
    return this.layers.some((layer) => layer.has(h1, h2));
  }

  /** Strings added (those a layer already answered "maybe" for are not counted again). */
  get count(): number {
    return this.layers.reduce((sum, layer) => sum + layer.count, 0);
  }

  /** Memory its bits take. */
  get bytes(): number {
    return this.layers.reduce((sum, layer) => sum + layer.bits.byteLength, 0);
  }
}
