/**
 * The gateway's order controller: place an order (priced from the catalogue, idempotent by `Idempotency-Key`), list
 * orders, and show one order with its reservation, payment and shipment gathered in parallel.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { BACKLOG_UNREADABLE_ANSWER, OVERLOADED_ANSWER } from '../../runtime/http/index.ts';
import { type Admission, type InFlightLimit } from '../../runtime/index.ts';
import { callerFor, json, passOn, type ResponseHeaders } from './downstreams.ts';
import { orderDetail } from './order-detail.ts';
import { PriceBook } from './price-book.ts';
import {
  DOWNSTREAMS,
  GatewayErrorCode,
  ListOrdersQuerySchema,
  OrderAcceptedSchema,
  OrderDetailSchema,
  OrderIdParamsSchema,
  OrderPageSchema,
  type PlaceOrderBody,
  PlaceOrderBodySchema,
  PlaceOrderHeadersSchema,
} from './protocol.ts';

/**
 * The order id for a request: derived from its `Idempotency-Key` (so a retried POST names the same order, which
 * the order service then creates once), or new and time-ordered.
 *
 * @example
 * orderIdFor('checkout-7f3a9c') === orderIdFor('checkout-7f3a9c'); // true
 */
export function orderIdFor(idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return `ord-${Bun.randomUUIDv7().replaceAll('-', '')}`;
  return `ord-${new Bun.CryptoHasher('sha256').update(`idempotency-key:${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/**
 * Prices the order's lines and creates it (the order service then starts its saga). `replayed`: the order existed
 * already (a retried request with the same Idempotency-Key).
 */
async function placeOrder(http: HttpClient, set: ResponseHeaders, priceBook: PriceBook, orderId: string, key: string | undefined, body: PlaceOrderBody, progress: { createSent: boolean }) {
  const call = callerFor(http, set);
  // Price every line from the catalogue, all SKUs at once (a listed SKU's price is read once: see PriceBook).
  const skus = [...new Set(body.lines.map((line) => line.sku))];
  const { prices, replies } = await priceBook.lookUp(skus, (sku) => call('inventory', `/skus/${encodeURIComponent(sku)}`));
  const unknown = skus.filter((sku) => replies.get(sku)?.status === 404);
  if (unknown.length > 0) {
    throw new HttpError(422, GatewayErrorCode.unknownSku, `unknown SKU ${unknown.join(', ')}: not in the catalogue (GET /api/catalogue lists what is)`, { skus: unknown });
  }
  // Any other reply that is not a price: the first one's failure is passed on.
  const [notPriced] = replies;
  if (notPriced) {
    const [sku, reply] = notPriced;
    if (reply.status !== 200) throw passOn('inventory', reply);
    set.headers['retry-after'] = '1';
    throw new HttpError(503, GatewayErrorCode.dependencyUnavailable, `inventory answered SKU ${sku} without a valid price; try again later`, { dependency: 'inventory', cause: 'bad-reply' });
  }
  const lines = body.lines.map((line) => ({ sku: line.sku, qty: line.qty, price: prices.get(line.sku)! }));

  // The order id makes the create repeat-safe, so the client may retry it.
  progress.createSent = true;
  const created = await call('order', '/orders', json('POST', { orderId, customer: body.customer, lines, address: body.address }, { 'idempotency-key': orderId }));
  if (created.status === 409 && key !== undefined) {
    throw new HttpError(409, GatewayErrorCode.keyReused, `Idempotency-Key "${key}" was already used for a different order; use a new key for a new order`, { orderId });
  }
  if (created.status !== 200 && created.status !== 201) throw passOn('order', created);
  if (created.status === 200) set.headers['idempotent-replayed'] = 'true';
  return { replayed: created.status === 200, answer: { orderId, state: created.body.state, links: { self: `/api/orders/${orderId}` } } };
}

/**
 * `admission`: an order is refused (429, nothing done) while any service its saga goes through is too far behind.
 * `priceBook`: the prices read so far (one per gateway).
 * `inFlight`: orders whose saga has not ended (confirmed or cancelled, as the order service's events say); an order
 * is refused (429) while it holds as many as it allows. An order that is not accepted gives its place back.
 *
 * @example
 * createServiceApp({ name: 'gateway' }).use(gatewayOrderRoutes(createDownstreamClient(), await openAdmission({ bounds })));
 */
export function gatewayOrderRoutes(http: HttpClient, admission?: Pick<Admission, 'gate'>, priceBook = new PriceBook(), inFlight?: InFlightLimit) {
  return new Elysia({ name: 'gateway:orders' })
    .post(
      '/api/orders',
      async ({ body, headers, set }) => {
        // First, before any call: a refused order costs a lookup and leaves nothing behind.
        admission?.gate.admit(DOWNSTREAMS);
        const key = headers['idempotency-key'];
        const orderId = orderIdFor(key);
        const held = inFlight?.admit(orderId) ?? false;
        const progress = { createSent: false };
        try {
          const accepted = await placeOrder(http, set, priceBook, orderId, key, body, progress);
          // An order that existed already and whose saga has ended: nothing runs for it. One still pending keeps its
          // place — its saga runs (the client's repeat, or this request's own retry of a create that timed out).
          if (held && accepted.replayed && (accepted.answer.state === 'confirmed' || accepted.answer.state === 'cancelled')) inFlight!.release(orderId, { timed: false });
          set.status = 202;
          return accepted.answer;
        } catch (error) {
          // The place is given back only when no saga can be running: refused before the create was sent, or the order
          // service refused it (4xx). After a timeout or a 5xx the order may exist: its end, or the expiry, frees it.
          if (held && (!progress.createSent || (error instanceof HttpError && error.status < 500))) inFlight!.release(orderId, { timed: false });
          throw error;
        }
      },
      {
        body: PlaceOrderBodySchema,
        headers: PlaceOrderHeadersSchema,
        response: { 202: OrderAcceptedSchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Place an order',
          description:
            'Prices each line from the catalogue and creates the order (202: accepted, pending until fulfilled). With an Idempotency-Key, a retried request answers with the same order instead of creating another.',
          tags: ['orders'],
          responses: answers({
            202: 'Accepted: the order is created (pending) and its saga fulfils it; follow links.self. A repeat with the same Idempotency-Key answers the same order (header idempotent-replayed: true)',
            409: 'IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used for a different order',
            422: 'UNKNOWN_SKU: a SKU is not in the catalogue (details.skus), or TOTAL_TOO_LARGE',
            429: `${OVERLOADED_ANSWER} (any of order, inventory, payment, shipping: the saga goes through all of them). Or details.reason in-flight: as many sagas are running as the gateway's limit allows now (details.inFlight, details.limit; it adapts to keep them within details.targetMs)`,
            503: `DEPENDENCY_UNAVAILABLE: inventory or order could not answer (details.dependency; Retry-After says when to try again); or ${BACKLOG_UNREADABLE_ANSWER}`,
          }),
        },
      },
    )
    .get(
      '/api/orders',
      async ({ query, set }) => {
        const search = new URLSearchParams();
        for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value));
        const page = await callerFor(http, set)('order', `/orders${search.size ? `?${search}` : ''}`);
        if (page.status !== 200) throw passOn('order', page);
        return page.body;
      },
      {
        query: ListOrdersQuerySchema,
        response: { 200: OrderPageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Page through orders, optionally by state',
          tags: ['orders'],
          responses: answers({
            200: 'One page of orders',
            400: 'INVALID_CURSOR: the cursor is not one the order service handed out',
            422: 'VALIDATION: limit outside 1–100 or an unknown state',
            503: 'DEPENDENCY_UNAVAILABLE: the order service could not answer',
          }),
        },
      },
    )
    .get('/api/orders/:id', ({ params, set }) => orderDetail(http, callerFor(http, set), params.id), {
      params: OrderIdParamsSchema,
      response: { 200: OrderDetailSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'One order with its reservation, payment, shipment and fulfillment saga (with its log)',
        description:
          'Asks the four services in parallel. A part whose service is unavailable is left out and named in `degraded` (still 200); a part not created yet is null. 503 only when the order service itself is unavailable.',
        tags: ['orders'],
        responses: answers({
          200: 'The order with its parts; `degraded` names the parts left out',
          404: 'ORDER_NOT_FOUND: no order has this id',
          503: 'DEPENDENCY_UNAVAILABLE: the order service could not answer',
        }),
      },
    });
}
