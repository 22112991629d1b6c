/**
 * `GET /metrics` (Prometheus' text format) and the count and latency of every request, by route pattern and
 * status, for a process's HTTP app. Mounted by `createServiceApp` before any route, so every route is measured;
 * the route label is Elysia's pattern (`/orders/:id`), never the path, and unmatched paths share one label.
 */
import { Elysia } from 'elysia';
import { httpRequestDuration, httpRequestsTotal, METRICS_CONTENT_TYPE, metricsOn, metricsText } from '../observe/metrics.ts';

const UNMATCHED = '(unmatched)';

/**
 * The metrics plugin of one process.
 *
 * @example
 * new Elysia().use(metricsRoute('order')).get('/orders/:id', …); // GET /metrics answers the registry
 */
export function metricsRoute(service: string) {
  const started = new WeakMap<Request, number>();
  return new Elysia({ name: `mailroom:metrics:${service}` })
    .onRequest(({ request }) => {
      if (metricsOn) started.set(request, performance.now());
    })
    .onAfterResponse({ as: 'global' }, (ctx) => {
      const { request, route, set } = ctx;
      // Elysia sets `code` on the context of a request that ended in an error (its types do not say so).
      const code = (ctx as { code?: unknown }).code;
      const t0 = started.get(request);
      if (t0 === undefined) return;
      const pattern = route || UNMATCHED;
      // A path no route matches is answered by the error handler, after `set.status` was last written.
      const status = code === 'NOT_FOUND' ? 404 : typeof set.status === 'number' ? set.status : 200;
      httpRequestsTotal.labels(service, request.method, pattern, String(status)).inc();
      httpRequestDuration.labels(service, request.method, pattern).observe((performance.now() - t0) / 1000);
    })
    .get('/metrics', async () => new Response(await metricsText(), { headers: { 'content-type': METRICS_CONTENT_TYPE } }), {
      detail: {
        summary: 'Prometheus metrics of this process (text format)',
        description: 'What a Prometheus scrape reads: the runtime’s, the HTTP frame’s and the process’s metrics, all prefixed `mailroom_` (see the README, Observability).',
        tags: ['health'],
        responses: {
          200: {
            description: 'The metrics, in Prometheus’ text exposition format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string', example: '# TYPE mailroom_turns_total counter\nmailroom_turns_total{service="shop",actor_type="counter"} 42\n' } } },
          },
        },
      },
    });
}
