/**
 * The gateway's catalogue controller. Its reads are the strangler fig's routes: each request for the catalogue or
 * one SKU goes to the legacy handler or to the inventory service by the one weight on the dial, and says which one
 * served it (`source` and `x-served-by`) — so at weight 0 a client sees the old system's names and stock on both,
 * at 100 the inventory's on both. Restocking writes, and is the inventory service's alone.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { BACKLOG_UNREADABLE_ANSWER, OVERLOADED_ANSWER } from '../../runtime/http/index.ts';
import { type Admission } from '../../runtime/index.ts';
import { callerFor, json, passOn } from './downstreams.ts';
import { legacyCatalogue } from './legacy-catalogue.ts';
import { CatalogueSchema, GatewayErrorCode, RestockBodySchema, RestockHeadersSchema, SkuItemSchema, SkuParamsSchema, StockSchema, type CatalogueItem } from './protocol.ts';
import type { Strangler } from './strangler.ts';

type SkuView = { sku: string; name: string; price: number; onHand: number; reserved: number; shipped: number };

const toItem = (sku: SkuView): CatalogueItem => ({ sku: sku.sku, name: sku.name, price: sku.price, available: sku.onHand });
const toStock = (sku: SkuView) => ({ ...toItem(sku), onHand: sku.onHand, reserved: sku.reserved, shipped: sku.shipped });
const DIAL_NOTE = 'Which system serves a request is drawn per request from the one weight at GET/PUT /api/admin/strangler (the catalogue and one SKU follow the same weight); `source` and the `x-served-by` header say which did.';

/**
 * @example
 * createServiceApp({ name: 'gateway' }).use(gatewayCatalogueRoutes(http, new Strangler({ store: redis })));
 */
export function gatewayCatalogueRoutes(http: HttpClient, strangler: Strangler, admission?: Pick<Admission, 'gate'>) {
  return new Elysia({ name: 'gateway:catalogue' })
    .get(
      '/api/catalogue',
      async ({ set }) => {
        const source = await strangler.choose();
        set.headers['x-served-by'] = source;
        if (source === 'legacy') return { source, items: legacyCatalogue() };
        const list = await callerFor(http, set)('inventory', '/skus');
        if (list.status !== 200) throw passOn('inventory', list);
        return { source, items: (list.body.items as SkuView[]).map(toItem) };
      },
      {
        response: { 200: CatalogueSchema, 503: ErrorBodySchema },
        detail: {
          summary: 'The catalogue (strangler fig: legacy handler or inventory service, by weight)',
          description: DIAL_NOTE,
          tags: ['catalogue'],
          responses: answers({
            200: 'Every SKU with its price and stock, from the system `source` names',
            503: 'DEPENDENCY_UNAVAILABLE: the inventory service was drawn and could not answer (Retry-After says when to try again)',
          }),
        },
      },
    )
    .get(
      '/api/catalogue/:sku',
      async ({ params, set }) => {
        const source = await strangler.choose();
        set.headers['x-served-by'] = source;
        if (source === 'legacy') {
          const item = legacyCatalogue().find((i) => i.sku === params.sku);
          if (!item) throw new HttpError(404, GatewayErrorCode.skuNotFound, `no SKU ${params.sku} in the catalogue; GET /api/catalogue lists them`, { sku: params.sku });
          return { source, ...item };
        }
        const found = await callerFor(http, set)('inventory', `/skus/${params.sku}`);
        if (found.status !== 200) throw passOn('inventory', found);
        return { source, ...toStock(found.body) };
      },
      {
        params: SkuParamsSchema,
        response: { 200: SkuItemSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'One SKU (strangler fig: legacy handler or inventory service, by the same weight as the catalogue)',
          description: `${DIAL_NOTE} Only the inventory service knows reserved and shipped units.`,
          tags: ['catalogue'],
          responses: answers({
            200: 'The SKU with its price and stock, from the system `source` names',
            404: 'SKU_NOT_FOUND: the serving system has no such SKU',
            503: 'DEPENDENCY_UNAVAILABLE: the inventory service was drawn and could not answer (Retry-After says when to try again)',
          }),
        },
      },
    )
    .post(
      '/api/catalogue/:sku/restock',
      async ({ params, body, headers, set }) => {
        admission?.gate.admit(['inventory']);
        const key = headers['idempotency-key'];
        const restocked = await callerFor(http, set)('inventory', `/skus/${params.sku}/restock`, json('POST', { qty: body.qty }, key ? { 'idempotency-key': key } : {}));
        if (restocked.status !== 200) throw passOn('inventory', restocked);
        return toStock(restocked.body);
      },
      {
        params: SkuParamsSchema,
        body: RestockBodySchema,
        headers: RestockHeadersSchema,
        response: { 200: StockSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Add stock to a SKU (always the inventory service)',
          description: 'Without an Idempotency-Key the call is tried once (a blind retry could restock twice); with one, inventory applies it once and the gateway may retry.',
          tags: ['catalogue'],
          responses: answers({
            200: 'The SKU’s stock after the restock',
            404: 'SKU_NOT_FOUND: the inventory service has no such SKU',
            429: `${OVERLOADED_ANSWER} (inventory)`,
            503: `DEPENDENCY_UNAVAILABLE or INVENTORY_BUSY: the inventory service could not apply it in time; retry with the same Idempotency-Key (Retry-After says when); or ${BACKLOG_UNREADABLE_ANSWER}`,
          }),
        },
      },
    );
}
