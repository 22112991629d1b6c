/**
 * Calls from the control plane to the processes it fronts for the panel (the order service's saga API, the
 * payment service's and the gateway's breakers, the gateway's strangler dial, the notifications outbox): plain HTTP with a deadline, the
 * answer passed on as it is, and a process that does not answer turned into one 503 naming it.
 */
import { HttpError } from '../../runtime/http/index.ts';
import { ControlErrorCode } from './protocol.ts';

/**
 * The processes the control plane calls, by name → origin (`http://host:port`) of one live instance, other than
 * those in `avoid` when another is live (the same origin again when none is).
 */
export type Origins = (name: UpstreamName, avoid?: ReadonlySet<string>) => string;

export type UpstreamName = 'order' | 'payment' | 'gateway' | 'notifications';

/** Where the processes are, and the service credential every call to them carries (exposed processes want it). */
export type Upstreams = { origins: Origins; serviceToken?: string };

export type UpstreamReply = { status: number; body: unknown; headers: Headers };

export const UPSTREAM_TIMEOUT_MS = 5_000;

const NOT_JSON = Symbol('not JSON');

/**
 * One call; throws a 503 `UPSTREAM_UNAVAILABLE` when the process cannot be reached, is too slow, or answers
 * something that is not JSON.
 *
 * @example
 * const { status, body } = await callUpstream(ctx, 'order', '/sagas?state=parked');
 */
export async function callUpstream(upstreams: Upstreams, name: UpstreamName, path: string, init: RequestInit = {}, timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<UpstreamReply> {
  const { origins, serviceToken } = upstreams;
  if (serviceToken) {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${serviceToken}`);
    init = { ...init, headers };
  }
  let response: Response | undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  const tried = new Set<string>();
  for (let origin = origins(name); response === undefined; ) {
    tried.add(origin);
    try {
      response = await fetch(`${origin}${path}`, { ...init, signal });
    } catch (error) {
      // A refused connection never reached that instance: any other live one may take the request, whatever it is.
      const next = refused(error) ? origins(name, tried) : origin;
      if (!tried.has(next)) {
        origin = next;
        continue;
      }
      const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'it could not be reached';
      throw new HttpError(503, ControlErrorCode.upstreamUnavailable, `${name} is unavailable: ${why}`, { process: name });
    }
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = NOT_JSON;
  }
  if (body !== NOT_JSON && !(body === undefined && response.status >= 400)) return { status: response.status, body, headers: response.headers };
  // A refusal by the server itself (e.g. a bodiless 431 for a URL too long) is not JSON: word it as ours.
  if (response.status >= 400 && response.status < 500) {
    const refused = { code: 'UPSTREAM_REFUSED', message: `${name} refused the request with ${response.status} ${response.statusText || ''}`.trim(), details: { process: name } };
    return { status: response.status, body: refused, headers: response.headers };
  }
  throw new HttpError(503, ControlErrorCode.upstreamUnavailable, `${name} answered ${response.status} with a body that is not JSON`, { process: name });
}

function refused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ConnectionRefused';
}

/**
 * Passes an upstream answer on: its status (and `Retry-After`) onto the response being built, its body as ours.
 *
 * @example
 * .get('/sagas', async ({ set }) => relay(await callUpstream(ctx, 'order', '/sagas'), set))
 */
// The body is the upstream's, whatever the route's response schema says of it (Elysia checks it against that).
export function relay(reply: UpstreamReply, set: { status?: number | string; headers: Record<string, string | number> }): any {
  set.status = reply.status;
  const retryAfter = reply.headers.get('retry-after');
  if (retryAfter) set.headers['retry-after'] = retryAfter;
  return reply.body;
}

/** JSON request options. */
export function jsonInit(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
