/**
 * The gateway's catalogue controller. `GET /api/catalogue` is the strangler fig's route: each request goes to the
 * legacy handler or to the inventory service by the weight on the dial, and says which one served it (`source`
 * and `x-served-by`). One SKU's stock and restocking are the inventory service's alone.
 */
import { Elysia } from 'elysia';
import { ErrorBodySchema, type HttpClient } from '../../runtime/index.ts';
import { callerFor, json, passOn } from './downstreams.ts';
import { legacyCatalogue } from './legacy-catalogue.ts';
import { CatalogueSchema, RestockBodySchema, RestockHeadersSchema, SkuParamsSchema, StockSchema, type CatalogueItem } from './protocol.ts';
import type { Strangler } from './strangler.ts';

type SkuView = { sku: string; name: string; price: number; onHand: number; reserved: number; shipped: number };

const toItem = (sku: SkuView): CatalogueItem => ({ sku: sku.sku, name: sku.name, price: sku.price, available: sku.onHand });
const toStock = (sku: SkuView) => ({ ...toItem(sku), onHand: sku.onHand, reserved: sku.reserved, shipped: sku.shipped });

/**
 * @example
 * createServiceApp({ name: 'gateway' }).use(gatewayCatalogueRoutes(http, new Strangler({ store: redis })));
 */
export function gatewayCatalogueRoutes(http: HttpClient, strangler: Strangler) {
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
          description: 'Which system serves a request is drawn per request from the weight at GET/PUT /api/admin/strangler; `source` and the `x-served-by` header say which did.',
          tags: ['catalogue'],
        },
      },
    )
    .get(
      '/api/catalogue/:sku',
      async ({ params, set }) => {
        const found = await callerFor(http, set)('inventory', `/skus/${params.sku}`);
        if (found.status !== 200) throw passOn('inventory', found);
        return toStock(found.body);
      },
      {
        params: SkuParamsSchema,
        response: { 200: StockSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: { summary: 'One SKU with its live stock', tags: ['catalogue'] },
      },
    )
    .post(
      '/api/catalogue/:sku/restock',
      async ({ params, body, headers, set }) => {
        const key = headers['idempotency-key'];
        const restocked = await callerFor(http, set)('inventory', `/skus/${params.sku}/restock`, json('POST', { qty: body.qty }, key ? { 'idempotency-key': key } : {}));
        if (restocked.status !== 200) throw passOn('inventory', restocked);
        return toStock(restocked.body);
      },
      {
        params: SkuParamsSchema,
        body: RestockBodySchema,
        headers: RestockHeadersSchema,
        response: { 200: StockSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Add stock to a SKU',
          description: 'Without an Idempotency-Key the call is tried once (a blind retry could restock twice); with one, inventory applies it once and the gateway may retry.',
          tags: ['catalogue'],
        },
      },
    );
}
