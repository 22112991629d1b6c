/**
 * The HTTP frame every Mailroom process builds on (services, the gateway, the control plane): an Elysia app that
 * already answers `/health`, publishes its OpenAPI document at `/swagger/json` with an offline Swagger UI at
 * `/swagger`, caps request bodies at 64 KiB, and answers every error as JSON `{ code, message, details? }` — never
 * a stack trace. A process adds its routes with `.use(routes)` and starts it with `listen(app, port)`.
 */
import { FormatRegistry } from '@sinclair/typebox';
import { Elysia, t } from 'elysia';
import { DEFAULT_BODY_LIMIT, declaredSizeError, parseBodyWithin } from './body-limit.ts';
import { errorResponse, toErrorResponse, type ErrorLogger } from './error-response.ts';
import { checkHealth, type HealthCheck } from './health.ts';
import { metricsRoute } from './metrics-route.ts';
import { openApiDocuments, type BearerSecurity, type DocumentTag } from './openapi-document.ts';
import { traceHook } from './trace-hook.ts';
import { startTracing, tracingWanted } from '../observe/tracing.ts';
import { swaggerUi } from './swagger-ui.ts';
import { crossSiteRefusal } from './cross-site.ts';
import { accessRefusal, type AccessGuard } from './access-guard.ts';
import type { RuleBook } from '../chaos/rule-book.ts';

// The frame's own document route reads every route of the app it is part of, whatever their types.
type AnyElysia = Elysia<any, any, any, any, any, any, any>;

// @elysiajs/openapi registers TypeBox's `email` format as a check that builds a new valibot pipeline on every call
// (7.5% of the order service's CPU under load). Same rule, compiled once.
const EMAIL = /^[\w+-]+(?:\.[\w+-]+)*@[\da-z]+(?:[.-][\da-z]+)*\.[a-z]{2,}$/iu;
FormatRegistry.Set('email', (value) => EMAIL.test(value));

export type ServiceAppOptions = {
  /** The process name (`order`, `gateway`, …). */
  name: string;
  version?: string;
  /** What the process is for: the OpenAPI document's description (Swagger UI shows it first). */
  description?: string;
  /** The tags its operations use, each with a sentence (`health` is the frame's own). */
  tags?: DocumentTag[];
  /** A bearer token guards the changing requests (the routes check it; the document declares it for Authorize). */
  bearer?: BearerSecurity;
  /**
   * Origins of other processes whose pages may change things here (e.g. the control panel's); a page of this
   * process itself always may, and so may programs that send no Origin. Default none.
   */
  trustedOrigins?: readonly string[];
  /**
   * Exposed mode: every request but `/health`, `/swagger…` and the guard's public paths needs the system's service
   * credential (401 `UNAUTHORIZED` otherwise); the document declares it as the `service` scheme for Authorize.
   */
  access?: AccessGuard;
  /** Dependency checks reported by `/health` (a failing one makes it a 503). */
  checks?: Record<string, HealthCheck>;
  /** Largest request body accepted, in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Where unexpected errors are logged (default: `console.error`, prefixed with the name). */
  log?: ErrorLogger;
  /**
   * Failure injection: requests hit by an error or latency rule for this process's routes (`/health` and
   * `/swagger` excepted) fail with the rule's status (`INJECTED_FAULT`) or are slowed down.
   */
  chaos?: RuleBook;
  /**
   * Admission control guards every changing request (each queues work through `node.ask`): the document lists
   * their 429 OVERLOADED and 503 with Retry-After. The refusal itself comes from the node (`createNode({ admission })`).
   */
  admission?: boolean;
};

/**
 * The error body schema, for routes that document their error responses in OpenAPI (the document shows it as the
 * one `Error` component).
 */
export const ErrorBodySchema = t.Object(
  { code: t.String(), message: t.String(), details: t.Optional(t.Record(t.String(), t.Unknown())) },
  { description: 'Every error: a literal code, a message a person can act on, optional details (an object of named facts)' },
);

const HealthSchema = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('degraded')]),
  service: t.String(),
  version: t.String(),
  pid: t.Integer(),
  uptimeMs: t.Integer(),
  checks: t.Optional(t.Record(t.String(), t.Unknown(), { description: 'Each dependency check: ok, ms and the error of a failed one' })),
});

const HEALTH_TAG: DocumentTag = { name: 'health', description: 'Whether the process is up and reaches what it depends on (the supervisor waits for a 200 here)' };
const FRAME_NOTE =
  'Every error is JSON `{code, message, details?}` (the `Error` schema). Request bodies are JSON only (415 otherwise), 64 KiB at most (413). A changing request from another site’s page is refused (403); a Host other than 127.0.0.1 or localhost is refused (421).';

/** The path of a request URL (`http://host/a/b?q` → `/a/b`), without building a URL object per request. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return end < 0 || end < start ? url.slice(start) : url.slice(start, end);
}

const ACCESS_NOTE =
  'This process is exposed: every request but `/health` and `/swagger` (and the public operations, marked with no lock) needs the system’s service credential, `Authorization: Bearer <token>` (401 UNAUTHORIZED otherwise). Use Authorize with the `MAILROOM_SERVICE_TOKEN` (or the data directory’s `service-token`).';

/**
 * An Elysia app with health, OpenAPI + offline Swagger UI, a body cap and JSON errors.
 *
 * @example
 * const app = createServiceApp({ name: 'order', description: 'Orders and their lifecycle' })
 *   .get('/orders/:id', ({ params }) => { throw new HttpError(404, 'ORDER_NOT_FOUND', `no order ${params.id}`); });
 * listen(app, portOf('order'));
 */
export function createServiceApp(options: ServiceAppOptions) {
  const version = options.version ?? '0.1.0';
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const startedAt = performance.now();
  // With tracing wanted, the process is not ready until its SDK is: a request answered before would have no span,
  // and the calls it made once tracing came on mid-request would start traces of their own (seen under load).
  // An SDK that failed to load is reported by the trace hook and passes: the process serves, untraced.
  const checks = tracingWanted() ? { ...options.checks, tracing: () => startTracing(options.name).catch(() => {}) } : options.checks;
  const log: ErrorLogger = options.log ?? ((line) => console.error(`[${options.name}] ${line}`));
  const trusted = new Set(options.trustedOrigins ?? []);

  const app = new Elysia({ name: `mailroom:service:${options.name}` });
  const documents = openApiDocuments(app as AnyElysia, {
    title: `${options.name} API`,
    version,
    description: [options.description, FRAME_NOTE, options.access && ACCESS_NOTE].filter(Boolean).join('\n\n'),
    tags: [HEALTH_TAG, ...(options.tags ?? [])],
    bearer: options.bearer,
    chaos: options.chaos !== undefined,
    admission: options.admission,
    service: options.access && { isPublic: options.access.isPublic ?? (() => false) },
  });
  return (
    app
      // First, so every route below is counted and timed.
      .use(metricsRoute(options.name))
      .use(traceHook(options.name))
      // Before routing, so an oversized upload to any path (even an unknown one) is refused unread.
      .onRequest(async ({ request }) => {
        const error = declaredSizeError(request, limit) ?? crossSiteRefusal(request, trusted);
        if (error) return errorResponse(error.status, error.toBody());
        const path = pathOf(request.url);
        const refused = options.access && accessRefusal(request, path, options.access);
        if (refused) {
          const response = errorResponse(refused.status, refused.toBody());
          response.headers.set('www-authenticate', 'Bearer');
          return response;
        }
        if (options.chaos) {
          if (path === '/health' || path.startsWith('/swagger')) return;
          const hit = options.chaos.pick(['error', 'latency'], { service: options.name, route: path });
          if (!hit) return;
          if (hit.latencyMs > 0) await Bun.sleep(hit.latencyMs);
          if (hit.rule.kind === 'error') {
            return errorResponse(hit.rule.status ?? 503, {
              code: 'INJECTED_FAULT',
              message: `${options.name} failed this request on purpose (chaos rule ${hit.rule.id}${hit.rule.note ? `: ${hit.rule.note}` : ''})`,
            });
          }
        }
      })
      .onParse({ as: 'global' }, ({ request, contentType }) => parseBodyWithin(request, contentType, limit))
      .onError({ as: 'global' }, ({ code, error, request }) => toErrorResponse(code, error, request, log))
      .get('/swagger/json', ({ request }) => documents.for(request), { detail: { hide: true } })
      .use(swaggerUi({ title: `${options.name} API` }))
      .get(
        '/health',
        async ({ set }) => {
          const { status, body } = await checkHealth({ service: options.name, version, startedAt, checks });
          set.status = status;
          return body;
        },
        {
          response: { 200: HealthSchema, 503: HealthSchema },
          detail: {
            summary: 'Liveness and dependency checks',
            tags: ['health'],
            responses: { 200: { description: 'Up, and every dependency check passed' }, 503: { description: 'Up, but a dependency check failed (status degraded; checks says which)' } },
          },
        },
      )
  );
}
