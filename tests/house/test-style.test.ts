/**
 * Tests wait for a rejection with `rejectionOf` (tests/helpers/rejection.ts), never with bun:test's
 * `expect(promise).rejects` / `.resolves`: those wait by running the event loop inside the caller, and when the caller
 * is the continuation of a reply of Bun's `RedisClient` (the runtime's hot-path client), that client reads its socket
 * again in the middle of a read and hands later commands the wrong replies — a test's own wait broke the node under
 * test (`tests/bench/bun-redis-reentry.test.ts` shows it).
 */
import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Glob } from 'bun';

const ROOT = join(import.meta.dir, '..', '..');
/** The one file that uses them on purpose, to show the fault. */
const ALLOWED = new Set(['tests/bench/bun-redis-reentry.test.ts']);

describe('test style', () => {
  it("should wait for rejections with rejectionOf, not bun:test's synchronous .rejects / .resolves", () => {
    const offenders: string[] = [];
    for (const file of new Glob('tests/**/*.ts').scanSync({ cwd: ROOT })) {
      if (ALLOWED.has(file) || file === relative(ROOT, import.meta.path)) continue;
      // Dependencies are not ours; Playwright's specs use Playwright's expect, whose waits are asynchronous.
      if (file.includes('/node_modules/') || file.startsWith('tests/e2e/')) continue;
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\/|\/\*)/.test(line)) return; // a comment may name them
          if (/\)\s*\.(rejects|resolves)\b/.test(line) || /^\s*\.(rejects|resolves)\b/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
