/**
 * The shop's side of exposed mode: the system's service credential — one shared secret that every process sends to
 * every other (`MAILROOM_SERVICE_TOKEN`; `bun run dev` generates it into the data directory and hands it to each
 * child; a process run alone reads or creates the same file) — and, when the process is exposed, the guard that
 * wants it on every request. On loopback nothing changes: no guard, and the credential is only sent if one is set.
 */
import { resolve } from 'node:path';
import { exposedOf } from '../../runtime/config.ts';
import { type AccessGuard } from '../../runtime/http/index.ts';
import { dataDirOf, ensureSecretFile, TOKEN_PATTERN } from './secret-file.ts';

type Env = Record<string, string | undefined>;

/** The environment variable that carries the service credential to every process. */
export const SERVICE_TOKEN_ENV = 'MAILROOM_SERVICE_TOKEN';

const ROOT = resolve(import.meta.dir, '../..');

/**
 * The service credential: `MAILROOM_SERVICE_TOKEN` if set (a malformed one is an error, not a weak secret); else,
 * when exposed, the data directory's `service-token` (created once); else none.
 *
 * @example
 * serviceTokenOf({}); // undefined: loopback, nobody asks for one
 * serviceTokenOf({ MAILROOM_EXPOSED: '1' }); // 'Zk3…' (kept in .data/service-token)
 */
export function serviceTokenOf(env: Env = process.env, dataDir: string = dataDirOf(ROOT, env)): string | undefined {
  const given = env.MAILROOM_SERVICE_TOKEN;
  if (given) {
    if (!TOKEN_PATTERN.test(given)) throw new Error(`${SERVICE_TOKEN_ENV} must be 32–256 characters of A–Z, a–z, 0–9, _ and - (e.g. openssl rand -base64 32 | tr '+/' '-_' | tr -d =)`);
    return given;
  }
  return exposedOf(env) ? ensureSecretFile(dataDir, 'service-token') : undefined;
}

/**
 * The guard of an exposed process (undefined on loopback): the service credential on every request but
 * `/health`, `/swagger` and the paths `isPublic` names.
 *
 * @example
 * createServiceApp({ name: 'order', access: accessGuardOf() });
 */
export function accessGuardOf(isPublic?: AccessGuard['isPublic'], env: Env = process.env): AccessGuard | undefined {
  if (!exposedOf(env)) return undefined;
  return { token: serviceTokenOf(env)!, isPublic };
}
