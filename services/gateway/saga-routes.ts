/**
 * The gateway's saga controller: the order service's operator view of the fulfillment sagas, read-only, under
 * `/api/sagas` — a list by status and one saga with its log. Retry and resolve stay on the order service, where an
 * operator acts; the public entry point only shows.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { callerFor, passOn } from './downstreams.ts';
import { GatewayErrorCode, ListSagasQuerySchema, SagaDetailSchema, SagaIdParamsSchema, SagaPageSchema } from './protocol.ts';

/**
 * @example
 * createServiceApp({ name: 'gateway' }).use(gatewaySagaRoutes(createDownstreamClient()));
 */
export function gatewaySagaRoutes(http: HttpClient) {
  return new Elysia({ name: 'gateway:sagas' })
    .get(
      '/api/sagas',
      async ({ query, set }) => {
        const search = new URLSearchParams();
        for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value));
        const page = await callerFor(http, set)('order', `/sagas${search.size ? `?${search}` : ''}`);
        if (page.status !== 200) throw passOn('order', page);
        return page.body;
      },
      {
        query: ListSagasQuerySchema,
        response: { 200: SagaPageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Page through the fulfillment sagas, optionally by status (running, compensating, completed, compensated, parked)',
          tags: ['sagas'],
          responses: answers({
            200: 'One page of saga summaries (a page may be short before the last)',
            400: 'INVALID_CURSOR: the cursor is not one the order service handed out',
            422: 'VALIDATION: limit outside 1–100 or an unknown status',
            503: 'DEPENDENCY_UNAVAILABLE: the order service could not answer',
          }),
        },
      },
    )
    .get(
      '/api/sagas/:orderId',
      async ({ params, set }) => {
        const saga = await callerFor(http, set)('order', `/sagas/${encodeURIComponent(params.orderId)}`);
        if (saga.status === 404) throw new HttpError(404, GatewayErrorCode.sagaNotFound, `no saga for order ${params.orderId}`, { orderId: params.orderId });
        if (saga.status !== 200) throw passOn('order', saga);
        return saga.body;
      },
      {
        params: SagaIdParamsSchema,
        response: { 200: SagaDetailSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'One order’s fulfillment saga: status, step, reason and its log with timings',
          tags: ['sagas'],
          responses: answers({ 200: 'The saga with its log', 404: 'SAGA_NOT_FOUND: no saga for this order', 503: 'DEPENDENCY_UNAVAILABLE: the order service could not answer' }),
        },
      },
    );
}
