/**
 * A server span for every HTTP request a process answers (health and metrics scrapes excepted), a child of the
 * caller's `traceparent` header, active while the request is handled — so the messages a handler sends and the
 * calls it makes carry it on. With tracing off (`runtime/observe/tracing.ts`), each hook is one branch.
 */
import { Elysia } from 'elysia';
import { enterSpan, SpanKind, SpanStatusCode, startSpan, startTracing, tracing, type Span } from '../observe/tracing.ts';

const QUIET = new Set(['/health', '/metrics']);

/**
 * The tracing hook of one process; starts the process's tracing when the environment asks for it.
 *
 * @example
 * new Elysia().use(traceHook('order')).get('/orders/:id', …); // a span "GET /orders/:id" per request
 */
export function traceHook(service: string) {
  void startTracing(service).catch((error) => console.error(`[${service}] tracing could not start: ${error instanceof Error ? error.message : String(error)}`));
  const spans = new WeakMap<Request, Span>();
  return new Elysia({ name: `mailroom:trace:${service}` })
    .onRequest(({ request }) => {
      if (!tracing.on) return;
      const path = new URL(request.url).pathname;
      if (QUIET.has(path)) return;
      const span = startSpan(request.method, request.headers.get('traceparent') ?? undefined, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': path, 'mailroom.service': service },
      });
      spans.set(request, span);
      enterSpan(span);
    })
    .onAfterResponse({ as: 'global' }, (ctx) => {
      if (!tracing.on) return;
      const span = spans.get(ctx.request);
      if (!span) return;
      const code = (ctx as { code?: unknown }).code;
      const status = code === 'NOT_FOUND' ? 404 : typeof ctx.set.status === 'number' ? ctx.set.status : 200;
      if (ctx.route) span.updateName(`${ctx.request.method} ${ctx.route}`);
      span.setAttributes({ 'http.route': ctx.route || '', 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
}
