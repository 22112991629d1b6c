/**
 * Secrets Mailroom keeps in its data directory (`.data/` unless `MAILROOM_DATA_DIR` moves it): each generated once
 * (32 random bytes, base64url) into a file of mode 600, so a restart keeps it — an open panel tab keeps working, and
 * a process restarted alone still shares the system's credential with the others.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

/** What a kept or given token must look like: URL-safe, long enough not to be guessed. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/;

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
 * The secret kept in `<dataDir>/<name>`, created when there is none yet (or what is there is not a token).
 *
 * @example
 * const token = ensureSecretFile(dataDirOf(root), 'service-token'); // the same string on every start
 */
export function ensureSecretFile(dataDir: string, name: string): string {
  const file = join(dataDir, name);
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
