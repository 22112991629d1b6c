/**
 * The barrage's generator of valid inputs for every route of every app, keyed by `METHOD /path/{param}` as the
 * OpenAPI document names them. The barrage derives its hostile requests from these; a route the documents list
 * that has no entry here fails the barrage, so a new route must come with a generator.
 */
import fc from 'fast-check';
import { CHAOS_KINDS } from '../../runtime/ops/index.ts';
import { KILL_SIGNALS, PROCESS_ACTIONS } from '../../runtime/supervisor/index.ts';
import { SCENARIOS } from '../../services/control/scenarios.ts';
import { CATALOGUE } from '../../services/inventory/catalogue.ts';
import type { AppName } from './in-process-shop.ts';
import { bodyOnly, nothing, paramsOnly, type RouteFuzz, type RouteInput } from './barrage.ts';

const SKUS = CATALOGUE.map((item) => item.sku);

/** Mostly a handful of ids (so repeats, conflicts and existing actors come up), sometimes a fresh one. */
const orderId = fc.oneof(fc.constantFrom('ord-fuzz-1', 'ord-fuzz-2', 'ord-fuzz-3'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$/));
/**
 * For creating orders: almost always one of a few ids (an Idempotency-Key for the gateway), so a valid sample is
 * mostly a repeat (200 or 409) and only a few dozen start a saga that then runs beside the barrage.
 */
const creatingOrderId = fc.oneof({ weight: 19, arbitrary: fc.constantFrom('ord-fuzz-1', 'ord-fuzz-2', 'ord-fuzz-3', 'ord-fuzz-4') }, { weight: 1, arbitrary: orderId });
const creatingKey = fc.oneof({ weight: 19, arbitrary: fc.constantFrom('fuzz-key-0001', 'fuzz-key-0002', 'fuzz-key-0003') }, { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7E]{8,40}$/) });
const sku = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SKUS) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Z0-9-]{2,12}$/) });
const text = (max: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 30) }),
    fc.constantFrom('Ada Lovelace', 'שלום', 'مرحبا', '😀 Émilie', "O'Brien; DROP TABLE x", '\u202Eevil', 'a\u200Bb'),
  );
const country = fc.constantFrom('GB', 'FR', 'DE', 'NL', 'US', 'XX', 'ZZ');
const email = fc.constantFrom('ada@example.com', 'a.b+c@example.co.uk', 'x@y.io');
const customer = fc.record({ name: text(100), email });
const address = fc.record({ name: text(100), line1: text(200), city: text(100), country });
const qty = fc.integer({ min: 1, max: 3 });
const idempotencyKey = fc.stringMatching(/^[\x21-\x7E]{8,40}$/);
const idempotencyHeaders = (key: string | undefined): Record<string, string> => (key ? { 'idempotency-key': key } : {});

const query = (fields: Record<string, fc.Arbitrary<string | number>>): fc.Arbitrary<RouteInput> =>
  fc.record(fields, { requiredKeys: [] }).map((q) => ({ query: new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString() }));
/** Mostly small pages: a page reads every order on it, and the barrage is about the input, not the page size. */
const pageQuery = (states: readonly string[], filter: 'state' | 'status' = 'state') =>
  query({ limit: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) }), [filter]: fc.constantFrom(...states), cursor: fc.constant('') });
const ORDER_STATES = ['pending', 'confirmed', 'cancelled'];
/** The outbox: one order's notice, or a small page of them, by kind. */
const noticeQuery = query({ orderId, limit: fc.integer({ min: 1, max: 5 }), kind: fc.constantFrom('confirmation', 'cancellation'), cursor: fc.constant('') });
const SAGA_STATUSES = ['running', 'compensating', 'completed', 'compensated', 'parked'];

/** Every process's frame routes: health, metrics, and the Swagger UI page, document and assets. */
const frameRoutes: Record<string, RouteFuzz> = {
  'GET /health': { valid: nothing },
  // It reads no input: a hundred requests say as much as a thousand, and each scrape renders the whole registry.
  'GET /metrics': { valid: nothing, runs: 100 },
  'GET /swagger': { valid: nothing },
  'GET /swagger/json': { valid: nothing },
  'GET /swagger/assets/{file}': {
    valid: paramsOnly({ file: fc.constantFrom('swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-16x16.png', 'index.html', 'package.json', '../package.json') }),
  },
};

/** What some generators need from the running shop. */
export type InputContext = {
  /** The control plane's bearer token (every mutating control request carries it; the barrage sometimes breaks it). */
  controlToken: string;
  /** Dead letters that exist, to replay and discard. */
  deadLetters: { service: string; partition: number; id: string }[];
  /** Charges the provider holds, to refund. */
  chargeIds: string[];
};

/**
 * Valid inputs per app and route.
 *
 * @example
 * routeInputs(context).order['POST /orders']!.valid; // bodies the order service creates an order from
 */
export function routeInputs(context: InputContext): Record<AppName, Record<string, RouteFuzz>> {
  const auth = { authorization: `Bearer ${context.controlToken}` };
  /** A mutating control request: the token, and whatever else the route takes. */
  const mutation = (input: fc.Arbitrary<RouteInput>): RouteFuzz => ({ valid: input.map((i) => ({ ...i, headers: { ...i.headers, ...auth } })), headerNames: ['authorization'] });
  const service = fc.constantFrom('order', 'inventory', 'payment', 'shipping', 'nosuch');
  const actorType = fc.constantFrom('order', 'fulfillment', 'sku', 'reservation', 'payment', 'shipment', 'nosuch');
  const deadLetter = context.deadLetters.length
    ? fc.oneof(fc.constantFrom(...context.deadLetters), fc.record({ service, partition: fc.integer({ min: 0, max: 3 }), id: fc.stringMatching(/^\d{1,13}-\d{1,3}$/) }))
    : fc.record({ service, partition: fc.integer({ min: 0, max: 3 }), id: fc.stringMatching(/^\d{1,13}-\d{1,3}$/) });
  const deadLetterParams = deadLetter.map((d) => ({ params: { service: d.service, partition: String(d.partition), id: d.id } }));
  const eventId = fc.oneof(fc.constantFrom('0', '$'), fc.stringMatching(/^\d{1,13}-\d{1,3}(\/\d{1,3})?$/));
  const events = { type: fc.constantFrom('saga.*', 'actor.transition', 'breaker.*,chaos.rule'), source: fc.constantFrom('order', 'payment,gateway') };
  return {
    gateway: {
      ...frameRoutes,
      'GET /api/health': { valid: nothing },
      'POST /api/orders': {
        valid: fc
          .record({
            body: fc.record({ customer, lines: fc.array(fc.record({ sku, qty }), { minLength: 1, maxLength: 3 }), address }),
            key: fc.option(creatingKey, { nil: undefined, freq: 20 }),
          })
          .map(({ body, key }) => ({ body, headers: idempotencyHeaders(key) })),
        headerNames: ['idempotency-key'],
      },
      'GET /api/orders': { valid: pageQuery(ORDER_STATES), queryKeys: ['limit', 'cursor', 'state'] },
      'GET /api/orders/{id}': { valid: paramsOnly({ id: orderId }) },
      'GET /api/sagas': { valid: pageQuery(SAGA_STATUSES, 'status'), queryKeys: ['limit', 'cursor', 'status'] },
      'GET /api/sagas/{orderId}': { valid: paramsOnly({ orderId }) },
      'GET /api/catalogue': { valid: nothing },
      'GET /api/catalogue/{sku}': { valid: paramsOnly({ sku }) },
      'POST /api/catalogue/{sku}/restock': {
        valid: fc
          .record({ sku, qty, key: fc.option(idempotencyKey, { nil: undefined }) })
          .map(({ sku, qty, key }) => ({ params: { sku }, body: { qty }, headers: idempotencyHeaders(key) })),
        headerNames: ['idempotency-key'],
      },
      'GET /api/admin/strangler': { valid: nothing },
      'PUT /api/admin/strangler': { valid: bodyOnly(fc.record({ weight: fc.integer({ min: 0, max: 100 }) })) },
      'GET /api/breakers': { valid: nothing },
    },
    order: {
      ...frameRoutes,
      'POST /orders': {
        valid: bodyOnly(
          fc.record(
            {
              orderId: creatingOrderId,
              customer,
              lines: fc.array(fc.record({ sku, qty, price: fc.integer({ min: 0, max: 100_000 }) }), { minLength: 1, maxLength: 3 }),
              address,
            },
            { requiredKeys: ['orderId', 'customer', 'lines', 'address'] },
          ),
        ),
      },
      'GET /orders': { valid: pageQuery(ORDER_STATES), queryKeys: ['limit', 'cursor', 'state'] },
      'GET /orders/{id}': { valid: paramsOnly({ id: orderId }) },
      'GET /sagas': { valid: pageQuery(SAGA_STATUSES, 'status'), queryKeys: ['limit', 'cursor', 'status'] },
      'GET /sagas/{orderId}': { valid: paramsOnly({ orderId }) },
      'POST /sagas/{orderId}/retry': { valid: paramsOnly({ orderId }) },
      'POST /sagas/{orderId}/resolve': {
        valid: fc.record({ orderId, note: text(500) }).map(({ orderId, note }) => ({ params: { orderId }, body: { note } })),
      },
    },
    inventory: {
      ...frameRoutes,
      'GET /skus': { valid: nothing },
      'GET /skus/{sku}': { valid: paramsOnly({ sku }) },
      'POST /skus/{sku}/restock': {
        valid: fc
          .record({ sku, qty, key: fc.option(idempotencyKey, { nil: undefined }) })
          .map(({ sku, qty, key }) => ({ params: { sku }, body: { qty }, headers: idempotencyHeaders(key) })),
        headerNames: ['idempotency-key'],
      },
      'POST /reservations': { valid: bodyOnly(fc.record({ orderId, lines: fc.array(fc.record({ sku, qty }), { minLength: 1, maxLength: 3 }) })) },
      'GET /reservations/{orderId}': { valid: paramsOnly({ orderId }) },
      'POST /reservations/{orderId}/release': { valid: paramsOnly({ orderId }) },
      'POST /reservations/{orderId}/commit': { valid: paramsOnly({ orderId }) },
    },
    payment: {
      ...frameRoutes,
      'GET /payments/{orderId}': { valid: paramsOnly({ orderId }) },
      'POST /payments/{orderId}/charge': {
        valid: fc
          .record({ orderId, amount: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constant(2_000_000)) })
          .map(({ orderId, amount }) => ({ params: { orderId }, body: { amount } })),
      },
      'POST /payments/{orderId}/refund': { valid: paramsOnly({ orderId }) },
      'GET /breakers': { valid: nothing },
    },
    shipping: {
      ...frameRoutes,
      'POST /shipments': { valid: bodyOnly(fc.record({ orderId, address, lines: fc.array(fc.record({ sku, qty }), { minLength: 1, maxLength: 3 }) })) },
      'GET /shipments/{orderId}': { valid: paramsOnly({ orderId }) },
      'POST /shipments/{orderId}/cancel': { valid: paramsOnly({ orderId }) },
    },
    provider: {
      ...frameRoutes,
      'POST /charges': {
        valid: bodyOnly(fc.record({ idempotencyKey: fc.oneof(fc.constantFrom('k-1', 'k-2'), text(200)), orderId, amount: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constant(2_000_000)) })),
      },
      'POST /refunds': {
        valid: bodyOnly(
          fc.record({ idempotencyKey: text(200), chargeId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('ch_1', ...context.chargeIds) }, { weight: 1, arbitrary: orderId }), amount: fc.integer({ min: 1, max: 500 }) }),
        ),
      },
      'POST /voids': { valid: bodyOnly(fc.record({ idempotencyKey: fc.oneof(fc.constantFrom('k-1', 'k-3'), text(200)) })) },
      'GET /ledger': { valid: query({ limit: fc.integer({ min: 1, max: 1_000 }), orderId }), queryKeys: ['limit', 'orderId'] },
      'GET /faults': { valid: nothing },
      // Each sample's rules are lifted right after it (see the test), so no other request meets an injected fault.
      'PUT /faults': {
        valid: bodyOnly(
          fc.record(
            {
              errorRate: fc.double({ min: 0, max: 1, noNaN: true }),
              latencyMs: fc.integer({ min: 0, max: 60_000 }).chain((min) => fc.integer({ min, max: 60_000 }).map((max) => ({ min, max }))),
              durationMs: fc.integer({ min: 1, max: 86_400_000 }),
            },
            { requiredKeys: ['errorRate'] },
          ),
        ),
      },
      'DELETE /faults': { valid: nothing },
    },
    notifications: {
      ...frameRoutes,
      'GET /notifications': { valid: noticeQuery, queryKeys: ['orderId', 'limit', 'cursor', 'kind'] },
    },
    control: {
      ...frameRoutes,
      // The built panel: any other path is a file of panel/dist or its index.html.
      'GET /*': {
        valid: fc
          .constantFrom('', 'index.html', 'assets/app.js', 'deep/link', 'assets/nope.js', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/etc/passwd', 'assets/..%2f..%2f..%2fpackage.json', '%', 'assets/%E0%A4%A')
          .map((path) => ({ params: { '*': path } })),
      },
      // The gateway's API, passed through for the built panel (mutations need the token here too).
      'GET /api/*': { valid: fc.constantFrom('orders', 'orders/ord-fuzz-1', 'catalogue', 'catalogue/BOX-M', 'admin/strangler', 'breakers', 'sagas', 'health', 'nosuch', '%').map((path) => ({ params: { '*': path } })) },
      'POST /api/*': mutation(
        fc.oneof(
          fc.record({ customer, lines: fc.array(fc.record({ sku, qty }), { minLength: 1, maxLength: 2 }), address, key: creatingKey }).map(({ key, ...body }) => ({ params: { '*': 'orders' }, body, headers: { 'idempotency-key': key } })),
          fc.record({ sku, qty }).map(({ sku, qty }) => ({ params: { '*': `catalogue/${sku}/restock` }, body: { qty } })),
        ),
      ),
      'PUT /api/*': mutation(fc.integer({ min: 0, max: 100 }).map((weight) => ({ params: { '*': 'admin/strangler' }, body: { weight } }))),
      'PATCH /api/*': mutation(fc.constantFrom('orders', 'admin/strangler').map((path) => ({ params: { '*': path }, body: {} }))),
      'DELETE /api/*': mutation(fc.constantFrom('orders/ord-fuzz-1', 'admin/strangler').map((path) => ({ params: { '*': path } }))),
      'GET /control/health': { valid: nothing },
      'GET /control/processes': { valid: nothing },
      'GET /control/topology': { valid: nothing },
      'GET /control/breakers': { valid: nothing },
      'GET /control/stats': { valid: nothing },
      'GET /control/load': { valid: nothing },
      'GET /control/strangler': { valid: nothing },
      'GET /control/chaos/rules': { valid: nothing },
      'GET /control/chaos/scenarios': { valid: nothing },
      'GET /control/machines/breaker': { valid: nothing },
      'GET /control/machines/{service}/{type}': { valid: paramsOnly({ service, type: actorType }) },
      'GET /control/actors': {
        valid: query({ service, type: actorType, q: fc.constantFrom('ord', 'BOX-*', 'ord-fuzz-?', '[a-z]*'), limit: fc.integer({ min: 1, max: 500 }) }),
        queryKeys: ['service', 'type', 'q', 'cursor', 'limit'],
      },
      'GET /control/actors/{service}/{type}/{id}': {
        valid: fc
          .oneof(fc.constantFrom(['inventory', 'sku', 'BOX-M'], ['order', 'order', 'ord-fuzz-1'], ['payment', 'payment', 'ord-fuzz-2']), fc.tuple(service, actorType, orderId))
          .map(([service, type, id]) => ({ params: { service: service!, type: type!, id: encodeURIComponent(id!) } })),
      },
      'GET /control/deadletters': { valid: query({ service, limit: fc.integer({ min: 1, max: 500 }) }), queryKeys: ['service', 'limit'] },
      'POST /control/deadletters/{service}/{partition}/{id}/replay': mutation(deadLetterParams),
      'DELETE /control/deadletters/{service}/{partition}/{id}': mutation(deadLetterParams),
      'GET /control/events': { valid: query({ from: eventId, limit: fc.integer({ min: 1, max: 1_000 }), ...events }), queryKeys: ['from', 'limit', 'type', 'source'] },
      'GET /control/events/stream': {
        valid: fc
          .record({ q: query({ from: eventId, ...events }), lastEventId: fc.option(eventId, { nil: undefined }) })
          .map(({ q, lastEventId }): RouteInput => ({ ...q, headers: lastEventId ? { 'last-event-id': lastEventId } : {} })),
        queryKeys: ['from', 'type', 'source'],
        headerNames: ['last-event-id'],
      },
      'GET /control/sagas': { valid: pageQuery(SAGA_STATUSES, 'status'), queryKeys: ['limit', 'cursor', 'status'] },
      'GET /control/sagas/{orderId}': { valid: paramsOnly({ orderId }) },
      'GET /control/notifications': { valid: noticeQuery, queryKeys: ['orderId', 'limit', 'cursor', 'kind'] },
      'GET /control/overview/series': { valid: nothing },
      'GET /control/breakers/shared': { valid: nothing },
      'GET /control/actors/{service}/{type}/{id}/history': {
        valid: fc
          .record({ id: fc.constantFrom(['inventory', 'sku', 'BOX-M'], ['order', 'fulfillment', 'ord-fuzz-1']), offset: fc.integer({ min: 0, max: 100 }), limit: fc.integer({ min: 1, max: 100 }) })
          .map(({ id: [service, type, id], offset, limit }) => ({ params: { service: service!, type: type!, id: id! }, query: `offset=${offset}&limit=${limit}` })),
        queryKeys: ['offset', 'limit'],
      },
      'GET /control/actors/{service}/{type}/{id}/at/{version}': {
        valid: fc
          .record({ id: fc.constantFrom(['inventory', 'sku', 'BOX-M'], ['order', 'fulfillment', 'ord-fuzz-1']), version: fc.integer({ min: 1, max: 50 }) })
          .map(({ id: [service, type, id], version }) => ({ params: { service: service!, type: type!, id: id!, version: String(version) } })),
      },
      'GET /control/sagas/{orderId}/trace': { valid: paramsOnly({ orderId }) },
      'GET /control/traces/{traceId}': { valid: paramsOnly({ traceId: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.constantFrom('0'.repeat(32), 'nosuch')) }) },
      // The OTLP/HTTP receiver: its own ingest token (none in this shop, so every post is refused 401 — as JSON).
      'POST /v1/traces': { valid: bodyOnly(fc.record({ resourceSpans: fc.constant([]) })), headerNames: ['authorization'] },
      'POST /control/sagas/{orderId}/retry': mutation(paramsOnly({ orderId })),
      'POST /control/sagas/{orderId}/resolve': mutation(fc.record({ orderId, note: text(500) }).map(({ orderId, note }) => ({ params: { orderId }, body: { note } }))),
      'PUT /control/strangler': mutation(bodyOnly(fc.record({ weight: fc.integer({ min: 0, max: 100 }) }))),
      'POST /control/chaos/rules': mutation(
        bodyOnly(
          fc.record(
            {
              kind: fc.constantFrom(...CHAOS_KINDS),
              // A service no node runs: the rules the barrage adds must not hit the shop it fuzzes meanwhile.
              target: fc.record({ service: fc.constant('fuzz-nowhere'), messageType: fc.constantFrom('inc', 'charge'), route: fc.constantFrom('/orders', '/x') }, { requiredKeys: ['service'] }),
              probability: fc.double({ min: 0, max: 1, noNaN: true }),
              latencyMs: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.record({ min: fc.integer({ min: 0, max: 100 }), max: fc.integer({ min: 100, max: 5_000 }) })),
              status: fc.constantFrom(500, 503, 429),
              durationMs: fc.integer({ min: 1, max: 86_400_000 }),
              note: text(200),
            },
            { requiredKeys: ['kind', 'target', 'probability', 'durationMs'] },
          ),
        ),
      ),
      'DELETE /control/chaos/rules': mutation(nothing),
      'DELETE /control/chaos/rules/{id}': mutation(paramsOnly({ id: fc.oneof(fc.uuid(), fc.stringMatching(/^[a-z0-9-]{1,40}$/)) })),
      'POST /control/chaos/scenarios/{name}': mutation(
        fc
          .record({ name: fc.constantFrom(...SCENARIOS.map((s) => s.name), 'no-such-scenario'), durationMs: fc.option(fc.integer({ min: 1_000, max: 3_600_000 }), { nil: undefined }) })
          .map(({ name, durationMs }) => ({ params: { name }, body: durationMs === undefined ? undefined : { durationMs } })),
      ),
      'POST /control/processes/{name}/{action}': mutation(
        fc
          .record({ name: fc.constantFrom('order', 'inventory', 'payment', 'shipping', 'provider', 'gateway', 'control', 'nosuch'), action: fc.constantFrom(...PROCESS_ACTIONS), signal: fc.option(fc.constantFrom(...KILL_SIGNALS), { nil: undefined }) })
          .map(({ name, action, signal }) => ({ params: { name, action }, body: signal && action === 'kill' ? { signal } : undefined })),
      ),
      'POST /control/services/{name}/pause': mutation(fc.record({ name: service, seconds: fc.integer({ min: 1, max: 3_600 }) }).map(({ name, seconds }) => ({ params: { name }, body: { seconds } }))),
      'POST /control/load': mutation(bodyOnly(fc.record({ ratePerSec: fc.integer({ min: 1, max: 500 }), durationS: fc.integer({ min: 1, max: 3_600 }) }, { requiredKeys: ['ratePerSec'] }))),
      'DELETE /control/load': mutation(nothing),
    },
  };
}
