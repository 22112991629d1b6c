/**
 * The order-fulfillment saga written the way Restate's docs write sagas, for `bun run bench saga --vs restate`: a
 * Restate SDK endpoint (HTTP/2, bidirectional streaming) run by Bun. The same five steps as
 * `sagas/order-fulfillment.ts` — create the order, reserve 1–3 SKUs, charge, schedule the shipment, confirm — each a
 * durable call to a virtual object (per order, per SKU, per shipment) or, for the charge, a `ctx.run` against
 * Mailroom's own payment-provider process (same HTTP API, same idempotency keys, same Redis ledger). A terminal error
 * at any step runs the compensations pushed so far in reverse; after the confirmation the stock is committed
 * (reserved → shipped) with one-way sends, as Mailroom's saga commits it after confirming.
 *
 * Env: PORT (where to listen), PROVIDER_URL (the payment provider). Prints `{"type":"ready","port":…}` once listening.
 * Lives in its own folder (own package.json) so the SDK never enters the root install; excluded from the root
 * tsconfig for the same reason.
 */
import * as restate from '@restatedev/restate-sdk';
import { RestatePromise, TerminalError, type ObjectContext } from '@restatedev/restate-sdk';

type Line = { sku: string; qty: number };
type Address = { name: string; line1: string; city: string; country: string };
type PlaceOrder = { orderId: string; customer: { name: string; email: string }; lines: Line[]; address: Address };
type Outcome = { state: 'confirmed'; trackingId: string; chargeId: string; total: number } | { state: 'cancelled'; reason: string };

const PROVIDER_URL = process.env.PROVIDER_URL ?? 'http://127.0.0.1:4105';
/** Destinations served, as services/shipping/carriers.ts has them. */
const CARRIERS: Record<string, string> = { GB: 'RM', FR: 'CO', DE: 'DH', NL: 'PN', US: 'US' };

// ── order/<orderId> ───────────────────────────────────────────────────────────────────────────────────────────
type OrderState = { state: 'pending' | 'confirmed' | 'cancelled'; lines: Line[]; total: number; reason?: string };

const order = restate.object({
  name: 'order',
  handlers: {
    create: async (ctx: ObjectContext, req: { customer: PlaceOrder['customer']; lines: Line[]; address: Address }) => {
      const existing = await ctx.get<OrderState>('order');
      if (existing) return { created: false, state: existing.state };
      ctx.set('order', { state: 'pending', lines: req.lines, total: 0 } satisfies OrderState);
      ctx.set('customer', req.customer);
      ctx.set('address', req.address);
      return { created: true, state: 'pending' };
    },
    confirm: async (ctx: ObjectContext, req: { total: number }) => {
      const o = await ctx.get<OrderState>('order');
      if (!o) throw new TerminalError('no such order');
      if (o.state === 'cancelled') throw new TerminalError(`order was cancelled: ${o.reason}`);
      ctx.set('order', { ...o, state: 'confirmed', total: req.total });
    },
    cancel: async (ctx: ObjectContext, req: { reason: string }) => {
      const o = await ctx.get<OrderState>('order');
      if (o?.state === 'confirmed') throw new TerminalError('order is confirmed');
      ctx.set('order', { state: 'cancelled', lines: o?.lines ?? [], total: o?.total ?? 0, reason: req.reason } satisfies OrderState);
    },
  },
});

// ── sku/<SKU> ─────────────────────────────────────────────────────────────────────────────────────────────────
type Sku = { price: number; onHand: number; reserved: Record<string, number>; shipped: number };

const sku = restate.object({
  name: 'sku',
  handlers: {
    /** Lists the SKU or adds stock (the bench seeds each SKU once before its phases). */
    restock: async (ctx: ObjectContext, req: { qty: number; price: number }) => {
      const s = (await ctx.get<Sku>('sku')) ?? { price: req.price, onHand: 0, reserved: {}, shipped: 0 };
      ctx.set('sku', { ...s, price: req.price, onHand: s.onHand + req.qty });
    },
    /** Holds `qty` units for the order and answers the unit price; short stock is a terminal error. */
    reserve: async (ctx: ObjectContext, req: { orderId: string; qty: number }) => {
      const s = await ctx.get<Sku>('sku');
      if (!s) throw new TerminalError(`unknown SKU ${ctx.key}`);
      if (s.reserved[req.orderId] !== undefined) return { price: s.price };
      if (s.onHand < req.qty) throw new TerminalError(`${ctx.key}: ${req.qty} requested, ${s.onHand} available`);
      ctx.set('sku', { ...s, onHand: s.onHand - req.qty, reserved: { ...s.reserved, [req.orderId]: req.qty } });
      return { price: s.price };
    },
    release: async (ctx: ObjectContext, req: { orderId: string }) => {
      const s = await ctx.get<Sku>('sku');
      const held = s?.reserved[req.orderId];
      if (!s || held === undefined) return;
      const { [req.orderId]: _, ...rest } = s.reserved;
      ctx.set('sku', { ...s, onHand: s.onHand + held, reserved: rest });
    },
    commit: async (ctx: ObjectContext, req: { orderId: string }) => {
      const s = await ctx.get<Sku>('sku');
      const held = s?.reserved[req.orderId];
      if (!s || held === undefined) return;
      const { [req.orderId]: _, ...rest } = s.reserved;
      ctx.set('sku', { ...s, reserved: rest, shipped: s.shipped + held });
    },
  },
});

// ── shipment/<orderId> ────────────────────────────────────────────────────────────────────────────────────────
const shipment = restate.object({
  name: 'shipment',
  handlers: {
    schedule: async (ctx: ObjectContext, req: { address: Address; lines: Line[] }) => {
      const carrier = CARRIERS[req.address.country];
      if (!carrier) {
        ctx.set('state', 'rejected');
        throw new TerminalError(`no carrier serves country ${req.address.country}`);
      }
      const trackingId = `${carrier}${Bun.hash.wyhash(`shipment:${ctx.key}`).toString(36).toUpperCase().padStart(10, '0').slice(-10)}`;
      ctx.set('state', 'scheduled');
      ctx.set('trackingId', trackingId);
      return { trackingId };
    },
    cancel: async (ctx: ObjectContext) => {
      ctx.set('state', 'cancelled');
    },
  },
});

// ── the payment provider, called from ctx.run ─────────────────────────────────────────────────────────────────
async function provider<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${PROVIDER_URL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  // A refusal (4xx but 408/429) will not change on a retry: terminal. Anything else is retried by ctx.run.
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new TerminalError(`provider ${path}: ${res.status} ${text}`);
  if (!res.ok) throw new Error(`provider ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

// ── the saga ──────────────────────────────────────────────────────────────────────────────────────────────────
const orderSaga = restate.service({
  name: 'orderSaga',
  handlers: {
    place: async (ctx: restate.Context, req: PlaceOrder): Promise<Outcome> => {
      const { orderId, lines } = req;
      const compensations: (() => Promise<unknown>)[] = [];
      try {
        compensations.push(() => ctx.objectClient(order, orderId).cancel({ reason: 'saga compensated' }));
        await ctx.objectClient(order, orderId).create({ customer: req.customer, lines, address: req.address });

        compensations.push(() => RestatePromise.all(lines.map((l) => ctx.objectClient(sku, l.sku).release({ orderId }))));
        const prices = await RestatePromise.all(lines.map((l) => ctx.objectClient(sku, l.sku).reserve({ orderId, qty: l.qty })));
        const total = lines.reduce((sum, l, i) => sum + l.qty * prices[i]!.price, 0);

        // ctx.run retries until the provider answers or refuses; a refusal (decline) charged nothing, so the refund
        // is pushed once the charge is known.
        const charge = await ctx.run('charge', () =>
          provider<{ chargeId: string }>('/charges', { idempotencyKey: `charge:${orderId}`, orderId, amount: total }),
        );
        compensations.push(() => ctx.run('refund', () => provider('/refunds', { idempotencyKey: `refund:${orderId}`, chargeId: charge.chargeId, amount: total })));

        compensations.push(() => ctx.objectClient(shipment, orderId).cancel());
        const { trackingId } = await ctx.objectClient(shipment, orderId).schedule({ address: req.address, lines });

        await ctx.objectClient(order, orderId).confirm({ total });
        // The stock leaves the warehouse: reserved → shipped.
        for (const l of lines) ctx.objectSendClient(sku, l.sku).commit({ orderId });
        return { state: 'confirmed', trackingId, chargeId: charge.chargeId, total };
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error;
        for (const compensate of compensations.reverse()) await compensate();
        return { state: 'cancelled', reason: error.message };
      }
    },
  },
});

const port = await restate.serve({ services: [orderSaga, order, sku, shipment], port: Number(process.env.PORT ?? 9080) });
process.stdout.write(`${JSON.stringify({ type: 'ready', port })}\n`);
