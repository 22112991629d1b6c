/**
 * The order generator behind the panel's load control: places random orders through the gateway
 * (`POST /api/orders`) at a steady rate, for a while or until stopped, and counts what happened to them — placed
 * (sent), accepted (202), refused (429: the system shedding load while it is behind — a client's cue to come back
 * later, not a failure), failed (anything else, by code). It keeps the SKUs it orders in stock (restocking
 * through the gateway when one runs low), so a long run shows the system under load rather than an empty shelf.
 */
import type { Random } from '../../runtime/index.ts';
import { SHIPPING_COUNTRIES } from '../shared/shop-vocabulary.ts';

export type LoadStatus = {
  running: boolean;
  ratePerSec: number;
  durationS: number | null;
  startedAt: number | null;
  endsAt: number | null;
  placed: number;
  accepted: number;
  /** Refused with 429 `OVERLOADED`: admission control shedding load while a service is behind. */
  refused: number;
  failed: number;
  inFlight: number;
  /** Failures by error code (`DEPENDENCY_UNAVAILABLE`, `UNREACHABLE`, …). */
  failures: Record<string, number>;
  lastError: string | null;
};

export type LoadGeneratorOptions = {
  /** The gateway's origin, asked at every start (ports may move). */
  gateway: () => string;
  random?: Random;
  /** Orders in flight at most; beyond it a tick skips (and says so in `failures.SATURATED`). Default 200. */
  maxInFlight?: number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Restock a SKU below this many available units (0: never). Default 100. */
  restockBelow?: number;
  /**
   * A SKU's live units on hand (the control plane reads the SKU actor). Without it the gateway's answer is used when
   * the inventory service gave it; the legacy snapshot's figure never moves, so it says nothing about the stock.
   */
  stockOf?: (sku: string) => Promise<number | null>;
  /** The system's service credential: restocking is not the gateway's public API (an exposed gateway wants it). */
  serviceToken?: string;
};

const TICK_MS = 100;
const REQUEST_TIMEOUT_MS = 10_000;
const RESTOCK_EVERY_MS = 5_000;
const RESTOCK_QTY = 2_000;
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Ken Thompson', 'Margaret Hamilton'];
/** Used until the gateway's catalogue answers. */
const FALLBACK_SKUS = ['BOX-S', 'BOX-M', 'TAPE-48', 'MARKER-BLK', 'ENV-DL-50'];

/**
 * @example
 * const load = new LoadGenerator({ gateway: () => 'http://127.0.0.1:3000' });
 * load.start({ ratePerSec: 20, durationS: 60 });
 * load.status(); // { running: true, placed: 40, accepted: 39, failed: 1, … }
 * load.stop();
 */
export class LoadGenerator {
  private state: LoadStatus = idle();
  private timer: ReturnType<typeof setInterval> | undefined;
  private restockTimer: ReturnType<typeof setInterval> | undefined;
  private owed = 0;
  private skus: string[] = [];
  private origin = '';
  private readonly random: Random;
  private readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: LoadGeneratorOptions) {
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  status(): LoadStatus {
    return { ...this.state, failures: { ...this.state.failures } };
  }

  /** Starts placing orders, or changes the rate and duration of a run in progress (its counts go on). */
  start(options: { ratePerSec: number; durationS?: number }): LoadStatus {
    const now = Date.now();
    if (!this.state.running) {
      this.state = { ...idle(), running: true, startedAt: now };
      this.origin = this.options.gateway();
      this.owed = 0;
      void this.loadCatalogue();
      this.timer = setInterval(() => this.tick(), TICK_MS);
      if ((this.options.restockBelow ?? 100) > 0) this.restockTimer = setInterval(() => void this.restock(), RESTOCK_EVERY_MS);
    }
    this.state.ratePerSec = options.ratePerSec;
    this.state.durationS = options.durationS ?? null;
    this.state.endsAt = options.durationS === undefined ? null : now + options.durationS * 1000;
    return this.status();
  }

  /** Stops placing orders (those in flight still count). */
  stop(): LoadStatus {
    clearInterval(this.timer);
    clearInterval(this.restockTimer);
    this.timer = this.restockTimer = undefined;
    this.state.running = false;
    this.state.endsAt = this.state.endsAt === null ? null : Math.min(this.state.endsAt, Date.now());
    return this.status();
  }

  /** Stops and waits for the orders in flight (for a clean shutdown and for tests). */
  async drain(): Promise<void> {
    this.stop();
    await Promise.all([...this.pending]);
  }

  private tick(): void {
    if (this.state.endsAt !== null && Date.now() >= this.state.endsAt) {
      this.stop();
      return;
    }
    this.owed += (this.state.ratePerSec * TICK_MS) / 1000;
    const max = this.options.maxInFlight ?? 200;
    while (this.owed >= 1) {
      this.owed--;
      if (this.state.inFlight >= max) {
        this.fail('SATURATED', `${max} orders in flight: the gateway is slower than the rate asked`);
        continue;
      }
      this.placeOne();
    }
  }

  private placeOne(): void {
    this.state.placed++;
    this.state.inFlight++;
    const run = this.send()
      .then(({ status, code, message }) => {
        if (status === 202 || status === 200) this.state.accepted++;
        else if (status === 429) {
          this.state.refused++;
          this.state.lastError = message ?? 'the gateway refused the order (429): the system is behind';
        } else this.fail(code ?? `HTTP_${status}`, message ?? `the gateway answered ${status}`);
      })
      .finally(() => {
        this.state.inFlight--;
        this.pending.delete(run);
      });
    this.pending.add(run);
  }

  private async send(): Promise<{ status: number; code?: string; message?: string }> {
    try {
      const res = await this.fetch(`${this.origin}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.randomOrder()),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.status === 202 || res.status === 200) {
        await res.body?.cancel();
        return { status: res.status };
      }
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      return { status: res.status, code: body.code, message: body.message };
    } catch (error) {
      return { status: 0, code: 'UNREACHABLE', message: `the gateway did not answer: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  private fail(code: string, message: string): void {
    this.state.failed++;
    this.state.failures[code] = (this.state.failures[code] ?? 0) + 1;
    this.state.lastError = message;
  }

  /** A plausible order: 1–3 distinct SKUs, 1–2 of each, to a country the shop ships to. */
  randomOrder() {
    const pick = <T>(items: readonly T[]) => items[Math.floor(this.random() * items.length)]!;
    const skus = this.skus.length ? this.skus : FALLBACK_SKUS;
    const count = 1 + Math.floor(this.random() * Math.min(3, skus.length));
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(pick(skus));
    const name = pick(NAMES);
    return {
      customer: { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.com` },
      lines: [...chosen].map((sku) => ({ sku, qty: 1 + Math.floor(this.random() * 2) })),
      address: { name, line1: `${1 + Math.floor(this.random() * 200)} Load Street`, city: 'Testville', country: pick(SHIPPING_COUNTRIES) },
    };
  }

  /** Orders the SKUs with plenty of stock (a nearly sold-out one would only show reservations failing). */
  private async loadCatalogue(): Promise<void> {
    try {
      const res = await this.fetch(`${this.origin}/api/catalogue`, { signal: AbortSignal.timeout(3_000) });
      if (!res.ok) return;
      const { items } = (await res.json()) as { items: { sku: string; available: number }[] };
      const plenty = items.filter((i) => i.available >= 50).map((i) => i.sku);
      if (plenty.length) this.skus = plenty;
    } catch {
      // The fallback SKUs serve until the next start.
    }
  }

  /** A SKU's live stock, or null when nobody can say (the gateway's strangler served the legacy snapshot). */
  private async available(sku: string): Promise<number | null> {
    if (this.options.stockOf) return this.options.stockOf(sku);
    const res = await this.fetch(`${this.origin}/api/catalogue/${sku}`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    const item = (await res.json()) as { source?: string; available: number };
    return item.source === 'legacy' ? null : item.available;
  }

  private async restock(): Promise<void> {
    const below = this.options.restockBelow ?? 100;
    for (const sku of this.skus.length ? this.skus : FALLBACK_SKUS) {
      try {
        const available = await this.available(sku);
        if (available === null || available >= below) continue;
        await this.fetch(`${this.origin}/api/catalogue/${sku}/restock`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `load-restock-${sku}-${Date.now()}`,
            ...(this.options.serviceToken ? { authorization: `Bearer ${this.options.serviceToken}` } : {}),
          },
          body: JSON.stringify({ qty: RESTOCK_QTY }),
          signal: AbortSignal.timeout(3_000),
        }).then((r) => r.body?.cancel());
      } catch {
        // Next round.
      }
    }
  }
}

function idle(): LoadStatus {
  return { running: false, ratePerSec: 0, durationS: null, startedAt: null, endsAt: null, placed: 0, accepted: 0, refused: 0, failed: 0, inFlight: 0, failures: {}, lastError: null };
}
