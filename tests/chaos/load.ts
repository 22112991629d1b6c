/**
 * The customers of a chaos run: orders placed through the gateway at a steady rate, drawn from the seed — mostly
 * ones the shop can fulfil, and some that must fail (more stock than exists, a country no carrier serves, a total
 * over the provider's decline limit) — each retried with its Idempotency-Key until the gateway accepts it, as a
 * careful client would. Meanwhile a stock clerk restocks what runs low, also by idempotency key. What was asked and
 * what came back is kept for the checks.
 */
import { seededRandom } from '../../runtime/index.ts';
import { orderIdFor } from '../../services/gateway/order-routes.ts';

export type OrderKind = 'normal' | 'short-stock' | 'unserved-country' | 'over-limit';
export type Line = { sku: string; qty: number };

export type PlacedOrder = {
  n: number;
  key: string;
  orderId: string;
  kind: OrderKind;
  lines: Line[];
  country: string;
  /** Σ qty × price at the catalogue's prices. */
  total: number;
  placedAt: number;
  /** `accepted`: a 202; `refused`: a 4xx that is neither an injected fault nor a 429; `unanswered`: no 202 within the retry budget. */
  outcome: 'accepted' | 'refused' | 'unanswered' | 'placing';
  acceptedAt?: number;
  attempts: number;
  /** The last answer that was not a 202 (status and body, or the network error). */
  last?: string;
};

export type Restock = { key: string; sku: string; qty: number; outcome: 'applied' | 'uncertain' };

/** Never restocked and only ever ordered in amounts it cannot have: every such order must be refused by inventory. */
export const SHORT_SKU = 'SCALE-5KG';
/** Ordered only by over-limit orders (700 × 15.99 = 11,193.00 > 10,000.00, the provider's limit). */
export const OVER_LIMIT_SKU = 'LABEL-A4-100';
const OVER_LIMIT_QTY = 700;
const SERVED = ['GB', 'FR', 'DE', 'NL', 'US'];
const UNSERVED = ['JP', 'BR', 'AU', 'CA', 'IN'];
const RETRY_BUDGET_MS = 60_000;

export type Load = {
  orders: PlacedOrder[];
  restocks: Restock[];
  /** Stops placing new orders and resolves once every order and restock in flight has its answer. */
  stop(): Promise<void>;
};

type Urls = { gateway: string; inventory: string };

/**
 * Starts placing orders (and restocking).
 *
 * @example
 * const load = await startLoad({ seed: 7, rate: 2, urls: { gateway: 'http://127.0.0.1:3000', inventory: 'http://127.0.0.1:3002' } });
 * await Bun.sleep(10_000);
 * await load.stop();
 */
export async function startLoad(options: { seed: number; rate: number; urls: Urls; log?: (line: string) => void }): Promise<Load> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const catalogue = (await getJson(`${options.urls.inventory}/skus`)) as { items: { sku: string; price: number; onHand: number }[] };
  const price = new Map(catalogue.items.map((i) => [i.sku, i.price]));
  const plentiful = catalogue.items.map((i) => i.sku).filter((s) => s !== SHORT_SKU && s !== OVER_LIMIT_SKU);
  const orders: PlacedOrder[] = [];
  const restocks: Restock[] = [];
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  // Enough of the over-limit SKU for several such orders at once: they must reach the card, not run out of stock.
  track(restock(options.urls.inventory, { key: `chaos-${options.seed}-restock-0`, sku: OVER_LIMIT_SKU, qty: OVER_LIMIT_QTY * 8, outcome: 'uncertain' }, restocks));

  const draw = (n: number): PlacedOrder => {
    const roll = random();
    const kind: OrderKind = roll < 0.85 ? 'normal' : roll < 0.9 ? 'short-stock' : roll < 0.95 ? 'unserved-country' : 'over-limit';
    let lines: Line[];
    if (kind === 'short-stock') lines = [{ sku: SHORT_SKU, qty: 100 + Math.floor(random() * 900) }];
    else if (kind === 'over-limit') lines = [{ sku: OVER_LIMIT_SKU, qty: OVER_LIMIT_QTY }];
    else {
      const skus = [...plentiful];
      // A partial Fisher–Yates shuffle: the first 1–3 are distinct SKUs.
      const count = 1 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(random() * (skus.length - i));
        [skus[i], skus[j]] = [skus[j]!, skus[i]!];
      }
      skus.length = count;
      lines = skus.map((sku) => ({ sku, qty: 1 + Math.floor(random() * 3) }));
    }
    const key = `chaos-${options.seed}-order-${n}`;
    return {
      n,
      key,
      orderId: orderIdFor(key),
      kind,
      lines,
      country: kind === 'unserved-country' ? pick(UNSERVED) : pick(SERVED),
      total: lines.reduce((sum, l) => sum + l.qty * price.get(l.sku)!, 0),
      placedAt: Date.now(),
      outcome: 'placing',
      attempts: 0,
    };
  };

  let stopped = false;
  const started = performance.now();
  const placing = (async () => {
    for (let n = 1; !stopped; n++) {
      const due = started + ((n - 1) * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (stopped) break;
      const order = draw(n);
      orders.push(order);
      track(place(options.urls.gateway, order));
    }
  })();

  // The clerk: every 5 s, whatever runs low gets 300 more.
  let restockN = 1;
  const clerk = (async () => {
    while (!stopped) {
      await Bun.sleep(5_000);
      if (stopped) break;
      try {
        const { items } = (await getJson(`${options.urls.inventory}/skus`)) as { items: { sku: string; onHand: number }[] };
        for (const item of items) {
          if (!plentiful.includes(item.sku) || item.onHand >= 80) continue;
          track(restock(options.urls.inventory, { key: `chaos-${options.seed}-restock-${restockN++}`, sku: item.sku, qty: 300, outcome: 'uncertain' }, restocks));
        }
      } catch {
        // inventory is down or slow: look again next round
      }
    }
  })();

  return {
    orders,
    restocks,
    async stop() {
      stopped = true;
      await Promise.all([placing, clerk]);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      options.log?.(`load: ${orders.length} orders placed, ${restocks.length} restocks`);
    },
  };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.json();
}

/** Retries until 202, a refusal, or the budget is spent; an injected fault's 4xx is retried like a 503, a 429 after its Retry-After. */
async function place(gateway: string, order: PlacedOrder): Promise<void> {
  const body = JSON.stringify({
    customer: { name: `Chaos customer ${order.n}`, email: `c${order.n}@example.com` },
    lines: order.lines,
    address: { name: `Chaos customer ${order.n}`, line1: `${order.n} Test Street`, city: 'Testville', country: order.country },
  });
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    order.attempts = attempt;
    try {
      const res = await fetch(`${gateway}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': order.key },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status === 202) {
        const got = JSON.parse(text) as { orderId: string };
        order.outcome = 'accepted';
        order.acceptedAt = Date.now();
        if (got.orderId !== order.orderId) order.last = `202 with another order id ${got.orderId}`;
        return;
      }
      order.last = `${res.status} ${text.slice(0, 300)}`;
      // 429: refused at the door while a service is behind (nothing was done): "not now", so retried after Retry-After.
      if (res.status === 429) {
        if (Date.now() > deadline) {
          order.outcome = 'unanswered';
          return;
        }
        await Bun.sleep(Math.max(1, Number(res.headers.get('retry-after')) || 1) * 1000 * (0.5 + Math.random() / 2));
        continue;
      }
      if (res.status >= 400 && res.status < 500 && !text.includes('injected fault')) {
        order.outcome = 'refused';
        return;
      }
    } catch (error) {
      order.last = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (Date.now() > deadline) {
      order.outcome = 'unanswered';
      return;
    }
    await Bun.sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
  }
}

async function restock(inventory: string, item: Restock, into: Restock[]): Promise<void> {
  into.push(item);
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      const res = await fetch(`${inventory}/skus/${item.sku}/restock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': item.key },
        body: JSON.stringify({ qty: item.qty }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      if (res.status === 200) {
        item.outcome = 'applied';
        return;
      }
    } catch {}
    await Bun.sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)));
  }
}
