/**
 * The control plane's bearer token: generated once, kept in `<data dir>/control-token` (mode 600, `.data/` unless
 * `MAILROOM_DATA_DIR` moves it) so a panel tab keeps working across restarts, handed to the control process in its
 * environment, and printed by `bun run dev` / `bun run start` inside the panel's URL. Every mutating control route
 * checks it in constant time.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { timingSafeEqual } from 'node:crypto';

type Env = Record<string, string | undefined>;

/** The environment variable that carries the token to the control process. */
export const CONTROL_TOKEN_ENV = 'MAILROOM_CONTROL_TOKEN';
/** The token the processes export spans with (`bun run dev --trace` makes one per run; it allows `POST /v1/traces` only). */
export const OTLP_TOKEN_ENV = 'MAILROOM_OTLP_TOKEN';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/;

/**
 * Where Mailroom keeps its data: `MAILROOM_DATA_DIR`, or `.data` under the project root.
 *
 * @example
 * dataDirOf('/srv/mailroom', {}); // '/srv/mailroom/.data'
 */
export function dataDirOf(root: string, env: Env = process.env): string {
  return resolve(root, env.MAILROOM_DATA_DIR || '.data');
}

/**
 * The token kept in `dataDir`, created (32 random bytes, base64url, file mode 600) when there is none yet.
 *
 * @example
 * const token = ensureControlToken(dataDirOf(root)); // the same string on every start
 */
export function ensureControlToken(dataDir: string): string {
  const file = join(dataDir, 'control-token');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (TOKEN_PATTERN.test(kept)) {
      chmodSync(file, 0o600);
      return kept;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
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
