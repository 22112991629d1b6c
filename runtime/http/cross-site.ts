/**
 * Requests a browser sends on behalf of another site. The services have no login: anything that can reach
 * 127.0.0.1 may call them, and a web page open in the operator's browser can (a form post or a bodiless POST needs
 * no CORS preflight; CORS only hides the answer). So every process refuses a changing request (anything but
 * GET/HEAD/OPTIONS) that the browser marks as cross-site or that names a foreign origin, and any request whose Host
 * is not this machine's name for itself when serving on loopback (DNS rebinding). A page this process serves itself
 * (its Swagger UI) is same-origin: its Origin is the server's own, and the browser says `Sec-Fetch-Site:
 * same-origin`. Programs — curl, other services — send neither header and pass.
 */
import { hostOf } from '../config.ts';
import { HttpError } from '../http-error.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The origin the request was sent to, as a browser names it: the scheme of the URL and the Host header the browser
 * set (the URL's host when there is none, as in `app.handle`). Only trusted after the Host check below.
 */
function ownOrigin(request: Request, host: string | null): string {
  const url = new URL(request.url);
  return `${url.protocol}//${host ?? url.host}`;
}

/**
 * The refusal for a request another site's page made, or null when it may go on.
 *
 * @example
 * const refused = crossSiteRefusal(request, new Set(['http://127.0.0.1:5173']));
 * if (refused) return errorResponse(refused.status, refused.toBody());
 */
export function crossSiteRefusal(request: Request, trusted: ReadonlySet<string>, servingHost: string = hostOf()): HttpError | null {
  const host = request.headers.get('host');
  const name = host === null ? null : host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  if (name !== null && LOOPBACK.has(servingHost) && !LOOPBACK.has(name)) {
    return new HttpError(421, 'WRONG_HOST', `this server answers to 127.0.0.1 or localhost, not "${host}"`);
  }
  if (SAFE.has(request.method)) return null;
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== 'null' && trusted.has(origin)) return null;
  const fetchSite = request.headers.get('sec-fetch-site');
  // Same-origin only under a name this server really has: a rebound DNS name would make any page "same-origin".
  const knownName = name === null || LOOPBACK.has(name) || name === servingHost;
  if (origin !== null && knownName && origin === ownOrigin(request, host) && (fetchSite === null || fetchSite === 'same-origin')) return null;
  if (fetchSite === 'cross-site' || origin !== null) {
    return new HttpError(403, 'CROSS_SITE_REQUEST', `a ${request.method} from another site (${origin ?? 'unknown origin'}) is refused: only pages of a trusted origin and this server's own pages may change things from a browser`);
  }
  return null;
}
