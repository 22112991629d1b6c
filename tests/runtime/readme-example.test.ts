import { afterAll, describe, expect, it } from 'bun:test';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const root = join(import.meta.dir, '..', '..');
const prefix = testPrefix('readme');
const file = join(root, `.readme-example-${process.pid}.ts`);
afterAll(async () => {
  rmSync(file, { force: true });
  await cleanupPrefix(prefix);
});

describe('docs/write-your-own-service.md', () => {
  it('should run exactly as written and count visits per name', async () => {
    const page = readFileSync(join(root, 'docs', 'write-your-own-service.md'), 'utf8');
    const code = page.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(code).toBeDefined();
    expect(code!.split('\n').length).toBeLessThanOrEqual(32);
    writeFileSync(file, code!);
    const port = freePort();
    const proc = Bun.spawn(['bun', file], { env: { ...process.env, REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: prefix, PORT: String(port) }, stdout: 'inherit', stderr: 'inherit' });
    try {
      const first = await waitFor('the example to answer', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/greet/ada`);
        return res.ok ? res.text() : null;
      });
      expect(first).toBe('Hello ada, visit #1');
      expect(await (await fetch(`http://127.0.0.1:${port}/greet/ada`)).text()).toBe('Hello ada, visit #2');
      expect(await (await fetch(`http://127.0.0.1:${port}/greet/bob`)).text()).toBe('Hello bob, visit #1');
      const bad = await fetch(`http://127.0.0.1:${port}/greet/NOT%20OK`);
      expect(bad.status).toBe(422);
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  }, 30_000);
});
