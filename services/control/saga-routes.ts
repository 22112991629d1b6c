/**
 * The sagas controller: the order service's saga operator API (list by status, one saga with its log, retry and
 * resolve a parked one) passed through as it is — its statuses, bodies and errors — so the panel talks to one
 * origin and the operator's mutations are token-guarded here.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { ResolveBodySchema, SagaIdParamsSchema, SagaListQuerySchema, SagaPageSchema, SagaSchema } from './protocol.ts';
import { callUpstream, jsonInit, relay } from './upstream.ts';

const tags = ['sagas'];
const UNAVAILABLE = 'UPSTREAM_UNAVAILABLE: the order service could not be reached or answered something that is not JSON; or its own 503';
const acted = {
  params: SagaIdParamsSchema,
  response: { 200: SagaSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema },
};
const actedNotes = {
  200: 'The saga as committed after it acted (the order service’s answer)',
  404: 'SAGA_NOT_FOUND: no saga for this order',
  409: 'SAGA_NOT_PARKED: the saga is not parked, or another operator acted first',
  503: UNAVAILABLE,
};

export function sagaRoutes(ctx: ControlContext) {
  const order = (path: string, init?: RequestInit) => callUpstream(ctx, 'order', path, init);
  return new Elysia({ name: 'control:sagas' })
    .get(
      '/sagas',
      async ({ query, set }) => {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
        return relay(await order(`/sagas${search.size ? `?${search}` : ''}`), set);
      },
      {
        query: SagaListQuerySchema,
        response: { 200: SagaPageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Sagas by status, paged (the order service’s GET /sagas)',
          tags,
          responses: answers({
            200: 'One page of saga summaries',
            400: 'INVALID_CURSOR: the cursor is not one the order service handed out',
            422: 'VALIDATION: limit outside 1–100 or an unknown status',
            503: UNAVAILABLE,
          }),
        },
      },
    )
    .get('/sagas/:orderId', async ({ params, set }) => relay(await order(`/sagas/${params.orderId}`), set), {
      params: SagaIdParamsSchema,
      response: { 200: SagaSchema, 404: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'One saga with its log (the order service’s GET /sagas/:orderId)',
        tags,
        responses: answers({ 200: 'The saga with its data and log', 404: 'SAGA_NOT_FOUND: no saga for this order', 503: UNAVAILABLE }),
      },
    })
    .post('/sagas/:orderId/retry', async ({ params, set }) => relay(await order(`/sagas/${params.orderId}/retry`, { method: 'POST' }), set), {
      ...acted,
      detail: { summary: 'Resume a parked saga’s compensation (409 unless parked)', tags, responses: answers(actedNotes) },
    })
    .post('/sagas/:orderId/resolve', async ({ params, body, set }) => relay(await order(`/sagas/${params.orderId}/resolve`, jsonInit('POST', body)), set), {
      ...acted,
      body: ResolveBodySchema,
      detail: { summary: 'Close a parked saga by hand, with a note (409 unless parked)', tags, responses: answers(actedNotes) },
    });
}
