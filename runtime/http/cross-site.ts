/**
 * Requests a browser sends on behalf of another site. The services have no login: anything that can reach
 * 127.0.0.1 may call them, and a web page open in the operator's browser can (a form post or a bodiless POST needs
 * no CORS preflight; CORS only hides the answer). So every process refuses a changing request (anything but
 * GET/HEAD/OPTIONS) that the browser marks as cross-site or that names a foreign origin, and any request whose Host
 * is not this machine's name for itself when serving on loopback (DNS rebinding). Programs — curl, other services —
 * send neither header and pass.
 */
import { hostOf, portOf } from '../config.ts';
import { HttpError } from './http-error.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The origins allowed to change things: the panel (Vite in dev) and the control plane that serves it in start. */
export function trustedOrigins(env: Record<string, string | undefined> = process.env): string[] {
  const host = hostOf(env);
  const hosts = LOOPBACK.has(host) ? ['127.0.0.1', 'localhost'] : [host];
  return (['panel', 'control'] as const).flatMap((name) => hosts.map((h) => `http://${h}:${portOf(name, env)}`));
}

/**
 * The refusal for a request another site's page made, or null when it may go on.
 *
 * @example
 * const refused = crossSiteRefusal(request, new Set(trustedOrigins()));
 * if (refused) return errorResponse(refused.status, refused.toBody());
 */
export function crossSiteRefusal(request: Request, trusted: ReadonlySet<string>, servingHost: string = hostOf()): HttpError | null {
  const host = request.headers.get('host');
  if (host && LOOPBACK.has(servingHost)) {
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    if (!LOOPBACK.has(name)) {
      return new HttpError(421, 'WRONG_HOST', `this server answers to 127.0.0.1 or localhost, not "${host}"`);
    }
  }
  if (SAFE.has(request.method)) return null;
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== 'null' && trusted.has(origin)) return null;
  if (request.headers.get('sec-fetch-site') === 'cross-site' || (origin !== null && !trusted.has(origin))) {
    return new HttpError(403, 'CROSS_SITE_REQUEST', `a ${request.method} from another site (${origin ?? 'unknown origin'}) is refused: only the Mailroom panel may change things from a browser`);
  }
  return null;
}

