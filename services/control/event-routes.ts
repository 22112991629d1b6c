/**
 * The events controller: the inspection history (newest last, filterable, from an id), the live stream as SSE
 * (batched, resumable with `Last-Event-ID` or `?from=`), and the saga counters the Overview shows.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { eventFilter, inspectionEventStream, withId } from './event-stream.ts';
import { ControlErrorCode, EVENT_ID_PATTERN, EventsQuerySchema, EventsSchema, inRange, LIMITS, StatsSchema, StreamQuerySchema } from './protocol.ts';

const tags = ['events'];

export function eventRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:events' })
    .get(
      '/events',
      async ({ query }) => {
        const keep = eventFilter(query.type, query.source);
        const from = query.from === '$' ? undefined : query.from;
        return (await ctx.view.inspection.history({ from, limit: inRange('query.limit', query.limit, LIMITS.events), keep })).map(withId);
      },
      {
        query: EventsQuerySchema,
        response: { 200: EventsSchema, 422: ErrorBodySchema },
        detail: {
          responses: answers({ 200: 'The events, oldest first', 422: 'VALIDATION: limit outside 1–1000, or from is not an event id' }),
          summary: 'Inspection events, oldest first: the latest `limit`, or the `limit` after event id `from`',
          description: 'Each is an InspectionEvent (runtime/inspection.ts) with its `id` (`<stream entry>/<index>`).',
          tags,
        },
      },
    )
    .get(
      '/events/stream',
      ({ query, request, server }) => {
        const header = request.headers.get('last-event-id');
        if (header !== null && !EVENT_ID_PATTERN.test(header)) {
          throw validationError('headers.last-event-id', `the Last-Event-ID header is not an event id: ${header.slice(0, 60)}`);
        }
        if (ctx.streams.open >= ctx.streams.max) {
          throw new HttpError(503, ControlErrorCode.tooManyStreams, `${ctx.streams.max} live streams are open already; close a panel tab`);
        }
        ctx.streams.open++;
        // An idle SSE connection must outlive Bun's 10 s idle timeout: heartbeats come every 15 s.
        server?.timeout(request, 0);
        const body = inspectionEventStream({
          redis: ctx.redisUrl,
          keyPrefix: ctx.keyPrefix,
          from: header ?? query.from ?? '$',
          filter: eventFilter(query.type, query.source),
          heartbeatMs: ctx.heartbeatMs,
          onClose: () => ctx.streams.open--,
        });
        request.signal.addEventListener('abort', () => void body.cancel().catch(() => {}), { once: true });
        return new Response(body, {
          headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
        });
      },
      {
        query: StreamQuerySchema,
        detail: {
          responses: answers({
            200: 'A text/event-stream that stays open: `id:` and `data:` batches, `: heartbeat` every 15 s',
            422: 'VALIDATION: the Last-Event-ID header or from is not an event id',
            503: 'TOO_MANY_STREAMS: too many live streams are open; close a panel tab',
          }),
          summary: 'Live inspection events (Server-Sent Events), batched ≤ 100 ms, resumable',
          description:
            'Each message: `id: <last event id>` and `data: [<InspectionEvent with id>, …]`. Resume with the Last-Event-ID header (EventSource sends it) or ?from=. A `: heartbeat` comment every 15 s. Filters: ?type=saga.step,breaker.* &source=payment.',
          tags,
        },
      },
    )
    .get('/stats', () => ctx.sagas.snapshot(Date.now()), {
      response: { 200: StatsSchema },
      detail: {
        responses: answers({ 200: 'The counters' }),
        summary: 'Saga counters by outcome, orders per second (last 10 s), saga latency p50/p99 (last 60 s)',
        description: 'Folded from saga.step inspection events since an hour before the control plane started.',
        tags: ['stats'],
      },
    });
}
