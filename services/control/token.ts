/**
 * The control plane's bearer token: generated once, kept in `<data dir>/control-token` (mode 600, `.data/` unless
 * `MAILROOM_DATA_DIR` moves it) so a panel tab keeps working across restarts, handed to the control process in its
 * environment, and printed by `bun run dev` / `bun run start` inside the panel's URL. Every mutating control route
 * checks it in constant time (and, when the control plane is exposed, every read too).
 */
import { ensureSecretFile } from '../shared/secret-file.ts';

export { dataDirOf } from '../shared/secret-file.ts';
export { bearerMatches } from '../../runtime/http/index.ts';

/** The environment variable that carries the token to the control process. */
export const CONTROL_TOKEN_ENV = 'MAILROOM_CONTROL_TOKEN';
/** The token the processes export spans with (`bun run dev --trace` makes one per run; it allows `POST /v1/traces` only). */
export const OTLP_TOKEN_ENV = 'MAILROOM_OTLP_TOKEN';

/**
 * The token kept in `dataDir`, created (32 random bytes, base64url, file mode 600) when there is none yet.
 *
 * @example
 * const token = ensureControlToken(dataDirOf(root)); // the same string on every start
 */
export function ensureControlToken(dataDir: string): string {
  return ensureSecretFile(dataDir, 'control-token');
}
