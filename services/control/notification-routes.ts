/**
 * The notifications controller: the notifications service's outbox (`GET /notifications`) passed through as it is —
 * its statuses, bodies and errors — so the panel lists an order's notice from the one origin it talks to.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { NoticeListQuerySchema, NoticePageSchema } from './protocol.ts';
import { callUpstream, relay } from './upstream.ts';

export function notificationRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:notifications' }).get(
    '/notifications',
    async ({ query, set }) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
      return relay(await callUpstream(ctx, 'notifications', `/notifications${search.size ? `?${search}` : ''}`), set);
    },
    {
      query: NoticeListQuerySchema,
      response: { 200: NoticePageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'The outbox: one order’s notice, or every notice paged (the notifications service’s GET /notifications)',
        description: 'Exactly one notice per settled order: a confirmation or a cancellation; none while it is pending.',
        tags: ['notifications'],
        responses: answers({
          200: 'One page of notices (with orderId: that order’s notice, or none yet)',
          400: 'INVALID_CURSOR: the cursor is not one the notifications service handed out',
          422: 'VALIDATION: an orderId that is not one, limit outside 1–100 or an unknown kind',
          503: 'UPSTREAM_UNAVAILABLE: the notifications service could not be reached or answered something that is not JSON',
        }),
      },
    },
  );
}
