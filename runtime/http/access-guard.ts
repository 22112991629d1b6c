/**
 * The service credential, for a process that is exposed (see `exposedOf` in `config.ts`). On loopback the Host
 * check keeps web pages out and nothing else can connect; once other machines can, the Host header proves nothing —
 * a client sends `Host: 127.0.0.1` as easily as any other — so every request must carry the system's shared secret
 * as `Authorization: Bearer <token>`. Left open: `/health` (the supervisor and load balancers probe it), the OpenAPI
 * document and Swagger UI (Swagger UI must load before a person can Authorize; the document holds no data), CORS
 * preflights, and whatever the process declares public (the gateway's shop API). Checked before routing, so a
 * caller without the credential learns nothing from validation errors either.
 */
import { timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http-error.ts';

/** Who may call this process when it is exposed. */
export type AccessGuard = {
  /** The system's service credential, as every other process sends it. */
  token: string;
  /** Paths anyone may call besides `/health` and `/swagger…` (e.g. the gateway's public API). */
  isPublic?: (path: string, method: string) => boolean;
};

/** The error code of every refusal for a missing or wrong credential (the control plane's too). */
export const UNAUTHORIZED = 'UNAUTHORIZED';

/**
 * Whether a path is open whatever the guard says: liveness, the API's description, and its Swagger UI.
 *
 * @example
 * alwaysOpen('/swagger/json'); // true
 */
export function alwaysOpen(path: string): boolean {
  return path === '/health' || path === '/swagger' || path.startsWith('/swagger/');
}

/**
 * Whether an `Authorization` header carries exactly `Bearer <token>` (compared in constant time).
 *
 * @example
 * bearerMatches('Bearer abc…', 'abc…'); // true
 */
export function bearerMatches(header: string | null, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The 401 for a request the guard does not let through, or null.
 *
 * @example
 * const refused = accessRefusal(request, '/faults', { token });
 * if (refused) return errorResponse(refused.status, refused.toBody());
 */
export function accessRefusal(request: Request, path: string, guard: AccessGuard): HttpError | null {
  if (request.method === 'OPTIONS' || alwaysOpen(path) || guard.isPublic?.(path, request.method)) return null;
  const header = request.headers.get('authorization');
  if (bearerMatches(header, guard.token)) return null;
  return new HttpError(
    401,
    UNAUTHORIZED,
    header === null
      ? `${request.method} ${path} needs the system's service credential: send Authorization: Bearer <token> (MAILROOM_SERVICE_TOKEN, or the data directory's service-token file)`
      : `the credential sent for ${request.method} ${path} is not this system's service credential (MAILROOM_SERVICE_TOKEN, or the data directory's service-token file)`,
  );
}
