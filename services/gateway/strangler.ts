/**
 * The strangler fig's dial: the share (0–100 %) of catalogue reads (`GET /api/catalogue` and `GET
 * /api/catalogue/{sku}`) the new inventory service serves
 * instead of the legacy handler. The weight lives in Redis (`<prefix>:svc:gateway:strangler`, a hash with `weight`
 * and `updatedAt`) so every gateway replica follows one dial and an operator can turn it at run time; each replica
 * caches it briefly so a request costs no Redis round trip. Without Redis the last known weight keeps serving.
 */
import { keyPrefixOf } from '../../runtime/config.ts';
import { systemClock, systemRandom, type Clock, type Random } from '../../runtime/index.ts';
import type { CatalogueSource } from './protocol.ts';

/** The Redis commands the dial needs (node-redis's client has them). */
export type WeightStore = {
  hGetAll(key: string): Promise<Record<string, string>>;
  hSet(key: string, values: Record<string, string>): Promise<unknown>;
};

export type StranglerOptions = {
  /** The store, or a function returning it (a connection opened after the routes were built). */
  store: WeightStore | (() => WeightStore | undefined);
  /** Default `<MAILROOM_PREFIX>:svc:gateway:strangler`. */
  key?: string;
  /** How long a read weight is trusted. Default 1,000 ms. */
  cacheMs?: number;
  /** How long a read may take before the last known weight is used (a client waiting for Redis queues commands). Default 250 ms. */
  readTimeoutMs?: number;
  /** The weight before anyone set one: 0, every request to the legacy handler, where a migration starts. */
  initialWeight?: number;
  clock?: Clock;
  random?: Random;
};

export type StranglerView = { route: string; weight: number; updatedAt: number | null; stale: boolean };

/** The routes the dial moves, both by the one weight. */
export const STRANGLED_ROUTE = 'GET /api/catalogue, GET /api/catalogue/{sku}';

export const stranglerKey = (prefix: string = keyPrefixOf()) => `${prefix}:svc:gateway:strangler`;

/**
 * The dial, read through a short cache.
 *
 * @example
 * const dial = new Strangler({ store: redis });
 * await dial.set(25);
 * (await dial.choose()) === 'inventory'; // about one request in four
 */
export class Strangler {
  private readonly key: string;
  private readonly cacheMs: number;
  private readonly readTimeoutMs: number;
  private readonly initialWeight: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly store: () => WeightStore | undefined;
  private known: { weight: number; updatedAt: number | null };
  private readAt = Number.NEGATIVE_INFINITY;
  private stale = false;
  /** One read in flight at a time, shared by the requests that find the cache expired. */
  private reading: Promise<void> | undefined;

  constructor(options: StranglerOptions) {
    const store = options.store;
    this.store = typeof store === 'function' ? store : () => store;
    this.key = options.key ?? stranglerKey();
    this.cacheMs = options.cacheMs ?? 1_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 250;
    this.initialWeight = options.initialWeight ?? 0;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.known = { weight: this.initialWeight, updatedAt: null };
  }

  /** The current weight, from the cache while it is fresh. */
  async view(): Promise<StranglerView> {
    if (this.clock.now() - this.readAt >= this.cacheMs) await (this.reading ??= this.read().finally(() => (this.reading = undefined)));
    return { route: STRANGLED_ROUTE, ...this.known, stale: this.stale };
  }

  /** Which system serves this request: `inventory` with probability weight/100. */
  async choose(): Promise<CatalogueSource> {
    const { weight } = await this.view();
    return this.random() * 100 < weight ? 'inventory' : 'legacy';
  }

  /** Sets the weight for every replica (this one at once, the others within their cache time). Throws without Redis. */
  async set(weight: number): Promise<StranglerView> {
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) throw new RangeError(`weight must be an integer 0–100, got ${weight}`);
    const store = this.store();
    if (!store) throw new Error('not connected to Redis yet');
    const updatedAt = this.clock.now();
    await this.within(store.hSet(this.key, { weight: String(weight), updatedAt: String(updatedAt) }), 4 * this.readTimeoutMs);
    this.known = { weight, updatedAt };
    this.readAt = updatedAt;
    this.stale = false;
    return { route: STRANGLED_ROUTE, ...this.known, stale: false };
  }

  private async read(): Promise<void> {
    try {
      const store = this.store();
      if (!store) throw new Error('not connected to Redis yet');
      const stored = await this.within(store.hGetAll(this.key));
      const weight = Number(stored.weight);
      if (stored.weight === undefined) this.known = { weight: this.initialWeight, updatedAt: null };
      else if (Number.isInteger(weight) && weight >= 0 && weight <= 100) this.known = { weight, updatedAt: Number(stored.updatedAt) || null };
      this.stale = false;
    } catch {
      // Keep serving with the last weight known; `stale` tells the operator the dial may have moved meanwhile.
      this.stale = true;
    }
    this.readAt = this.clock.now();
  }

  private within<T>(work: Promise<T>, ms: number = this.readTimeoutMs): Promise<T> {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    });
    return Promise.race([work, late]).finally(() => this.clock.clearTimeout(timer!));
  }
}
