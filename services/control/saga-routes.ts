/**
 * The sagas controller: the order service's saga operator API (list by status, one saga with its log, retry and
 * resolve a parked one) passed through as it is — its statuses, bodies and errors — so the panel talks to one
 * origin and the operator's mutations are token-guarded here.
 */
import { Elysia, t } from 'elysia';
import type { ControlContext } from './context.ts';
import { callUpstream, jsonInit, relay } from './upstream.ts';

const tags = ['sagas'];
const ORDER_ID = t.Object({ orderId: t.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' }) });

export function sagaRoutes(ctx: ControlContext) {
  const order = (path: string, init?: RequestInit) => callUpstream(ctx.origins, 'order', path, init);
  return new Elysia({ name: 'control:sagas' })
    .get(
      '/sagas',
      async ({ query, set }) => {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
        return relay(await order(`/sagas${search.size ? `?${search}` : ''}`), set);
      },
      {
        query: t.Object({
          state: t.Optional(t.String({ description: 'running, compensating, completed, compensated or parked' })),
          limit: t.Optional(t.String({ description: '1–100 (default 20)' })),
          cursor: t.Optional(t.String({ maxLength: 200 })),
        }),
        detail: { summary: 'Sagas by status, paged (the order service’s GET /sagas)', tags },
      },
    )
    .get('/sagas/:orderId', async ({ params, set }) => relay(await order(`/sagas/${params.orderId}`), set), {
      params: ORDER_ID,
      detail: { summary: 'One saga with its log (the order service’s GET /sagas/:orderId)', tags },
    })
    .post('/sagas/:orderId/retry', async ({ params, set }) => relay(await order(`/sagas/${params.orderId}/retry`, { method: 'POST' }), set), {
      params: ORDER_ID,
      detail: { summary: 'Resume a parked saga’s compensation (409 unless parked)', tags },
    })
    .post('/sagas/:orderId/resolve', async ({ params, body, set }) => relay(await order(`/sagas/${params.orderId}/resolve`, jsonInit('POST', body)), set), {
      params: ORDER_ID,
      body: t.Object({ note: t.String({ minLength: 1, maxLength: 500 }) }),
      detail: { summary: 'Close a parked saga by hand, with a note (409 unless parked)', tags },
    });
}
