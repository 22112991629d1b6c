/**
 * What keeps the control plane the panel's alone: CORS only for the panel's origins (the Vite dev server and the
 * control plane itself), preflights included, and nothing at all for any other origin; and a bearer token on every
 * mutating request, checked before anything else runs (so an unauthenticated caller learns nothing from validation
 * errors either). Exposed (bound off loopback, or `MAILROOM_EXPOSED=1`), the token guards the reads under
 * `/control` and `/api` too: actor contexts hold customers' names, e-mails and addresses. The live event stream is
 * read by `EventSource`, which cannot send headers, so it alone also takes the token as `?access_token=` (RFC 6750
 * §2.3). Runs on every request, before routing.
 */
import { Elysia } from 'elysia';
import { trustedOrigins } from '../config.ts';
import { ControlErrorCode } from './protocol.ts';
import { bearerMatches } from './token.ts';

/** The one route whose token may come in the query: a browser's `EventSource` cannot set headers. */
const EVENT_STREAM = '/control/events/stream';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
/** Where an OTLP/HTTP exporter posts spans (`<endpoint>/v1/traces`). */
export const OTLP_TRACES_PATH = '/v1/traces';
const ALLOWED_HEADERS = 'authorization, content-type, last-event-id, idempotency-key';

/** The origins the panel is served from (the Vite dev server and the control plane): the shop's trusted origins. */
export const panelOrigins = trustedOrigins;

/**
 * @example
 * createServiceApp({ name: 'control' }).use(controlSecurity({ token, origins: panelOrigins() })).use(routes);
 */
export function controlSecurity(options: { token: string; origins: readonly string[]; exposed?: boolean; ingestToken?: string }) {
  const allowed = new Set(options.origins);
  return new Elysia({ name: 'control:security' }).onRequest(({ request, set }) => {
    const origin = request.headers.get('origin');
    const trusted = origin !== null && allowed.has(origin);
    if (trusted) {
      set.headers['access-control-allow-origin'] = origin;
      set.headers['access-control-expose-headers'] = 'retry-after';
    }
    set.headers.vary = 'Origin';

    if (request.method === 'OPTIONS') {
      // A preflight from anywhere else gets no CORS headers, so the browser refuses the real request.
      const headers: Record<string, string> = { vary: 'Origin' };
      if (trusted) {
        Object.assign(headers, {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        });
      }
      return new Response(null, { status: 204, headers });
    }

    const authorization = request.headers.get('authorization');
    // The processes export spans with an ingest token of their own: the control token stays with the control plane.
    const ingest = options.ingestToken !== undefined && new URL(request.url).pathname === OTLP_TRACES_PATH && bearerMatches(authorization, options.ingestToken);
    if (!ingest && needsToken(request, options.exposed ?? false) && !carriesToken(request, options.token)) {
      const given = authorization !== null;
      const body = {
        code: ControlErrorCode.unauthorized,
        message: given
          ? 'the bearer token is not this control plane’s; open the panel from the URL `bun run dev` printed'
          : MUTATING.has(request.method)
            ? 'this call changes the system: send Authorization: Bearer <token> (the token is in the panel URL `bun run dev` printed, and in .data/control-token)'
            : 'this control plane is exposed, so reads need the token too: send Authorization: Bearer <token> (the token is in the panel URL `bun run dev` printed, and in .data/control-token)',
      };
      return Response.json(body, { status: 401, headers: { 'www-authenticate': 'Bearer' } });
    }
  });
}

/** Mutations always; exposed, every read of the control API and of the gateway API it passes on as well. */
function needsToken(request: Request, exposed: boolean): boolean {
  if (MUTATING.has(request.method)) return true;
  if (!exposed) return false;
  const path = new URL(request.url).pathname;
  return path === '/control' || path.startsWith('/control/') || path === '/api' || path.startsWith('/api/');
}

function carriesToken(request: Request, token: string): boolean {
  if (bearerMatches(request.headers.get('authorization'), token)) return true;
  if (request.method !== 'GET') return false;
  const url = new URL(request.url);
  const query = url.searchParams.get('access_token');
  return url.pathname === EVENT_STREAM && query !== null && bearerMatches(`Bearer ${query}`, token);
}
