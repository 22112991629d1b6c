/**
 * Stand-ins for the services behind the gateway, for the gateway's own tests: small `Bun.serve` servers on free
 * ports that answer the services' HTTP contracts (issue 5's brief) from in-memory maps, with a delay, a failure
 * mode and a hit counter per service. The order service is the real one (its routes on a real node) where a test
 * needs it; `env` points the gateway's `portOf` at all of them.
 */
import { freePort } from '../helpers/redis.ts';

export type SkuView = { sku: string; name: string; price: number; onHand: number; reserved: number; shipped: number };
type Handler = (request: Request, url: URL) => Response | Promise<Response>;

export type StandIn = {
  port: number;
  hits: number;
  /** Paths requested, in order. */
  paths: string[];
  headers: Headers[];
  delayMs: number;
  /** 'fail': answer 500 to everything. */
  mode: 'ok' | 'fail';
  stop(): Promise<void>;
};

const json = (body: unknown, status = 200) => Response.json(body, { status });
const notFound = (code: string, message: string) => json({ code, message }, 404);

/** A server answering `handler` after `delayMs`, or 500 in `fail` mode. */
export function standIn(handler: Handler, port: number = freePort()): StandIn {
  const state: StandIn = {
    port,
    hits: 0,
    paths: [],
    headers: [],
    delayMs: 0,
    mode: 'ok',
    stop: async () => {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    port,
    hostname: '127.0.0.1',
    async fetch(request) {
      state.hits++;
      const url = new URL(request.url);
      state.paths.push(`${request.method} ${url.pathname}`);
      state.headers.push(request.headers);
      if (state.delayMs > 0) await Bun.sleep(state.delayMs);
      if (state.mode === 'fail') return json({ code: 'INTERNAL', message: 'stand-in failing on purpose' }, 500);
      return handler(request, url);
    },
  });
  return state;
}

export const CATALOGUE: SkuView[] = [
  { sku: 'BOX-M', name: 'Shipping box, medium', price: 299, onHand: 400, reserved: 0, shipped: 0 },
  { sku: 'TAPE-48', name: 'Packing tape, 48 mm × 66 m', price: 399, onHand: 600, reserved: 0, shipped: 0 },
  { sku: 'SCALE-5KG', name: 'Parcel scale, 5 kg', price: 2499, onHand: 5, reserved: 0, shipped: 0 },
];

/** Inventory: `/skus`, `/skus/:sku`, `/skus/:sku/restock`, `/reservations/:orderId`. */
export function inventoryStandIn(reservations = new Map<string, unknown>()) {
  const skus = new Map(CATALOGUE.map((s) => [s.sku, { ...s }]));
  return standIn(async (request, url) => {
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'skus' && parts.length === 1) return json({ items: [...skus.values()] });
    if (parts[0] === 'skus') {
      const sku = skus.get(parts[1]!);
      if (!sku) return notFound('SKU_NOT_FOUND', `no SKU ${parts[1]}`);
      if (parts[2] === 'restock' && request.method === 'POST') sku.onHand += ((await request.json()) as { qty: number }).qty;
      return json(sku);
    }
    if (parts[0] === 'reservations') {
      const found = reservations.get(parts[1]!);
      return found ? json(found) : notFound('RESERVATION_NOT_FOUND', `no reservation for ${parts[1]}`);
    }
    return notFound('NOT_FOUND', `no route for ${url.pathname}`);
  });
}

/** A service with one resource: `GET /<collection>/:orderId` from `items`. */
export function viewStandIn(collection: string, code: string, items = new Map<string, unknown>()) {
  return standIn((_request, url) => {
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== collection) return notFound('NOT_FOUND', `no route for ${url.pathname}`);
    const found = items.get(parts[1]!);
    return found ? json(found) : notFound(code, `nothing for ${parts[1]}`);
  });
}

/** The env that points `portOf` at the stand-ins. */
export function envFor(ports: { order: number; inventory: number; payment: number; shipping: number }): Record<string, string> {
  return {
    MAILROOM_HOST: '127.0.0.1',
    MAILROOM_PORT_ORDER: String(ports.order),
    MAILROOM_PORT_INVENTORY: String(ports.inventory),
    MAILROOM_PORT_PAYMENT: String(ports.payment),
    MAILROOM_PORT_SHIPPING: String(ports.shipping),
  };
}
