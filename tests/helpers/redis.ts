/**
 * Redis for tests: each test uses its own key prefix on the shared Redis and removes its keys afterwards;
 * tests that kill or restart Redis start their own redis-server on a free port.
 */
import { createClient } from 'redis';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function testPrefix(name: string): string {
  return `test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under a prefix (SCAN + UNLINK; never FLUSHALL). */
export async function cleanupPrefix(prefix: string, url = SHARED_REDIS): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  let removed = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
      if (keys.length) removed += await client.unlink(keys);
    }
  } finally {
    await client.quit();
  }
  return removed;
}

/**
 * Appends entries to a stream in one write (a script), so that a reader takes them all in one read or none of them:
 * how a test puts several messages into one batch of a partition.
 */
export async function appendTogether(stream: string, entries: readonly (readonly string[])[], url = SHARED_REDIS): Promise<void> {
  const script = "local i = 1 while i <= #ARGV do local n = tonumber(ARGV[i]) redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + n)) i = i + n + 1 end return 1";
  const client = createClient({ url });
  await client.connect();
  try {
    await client.eval(script, { keys: [stream], arguments: entries.flatMap((fields) => [String(fields.length), ...fields]) });
  } finally {
    await client.quit();
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

export type PrivateRedis = { url: string; port: number; dir: string; proc: ReturnType<typeof Bun.spawn>; stop(): Promise<void> };

/** Starts a private redis-server (AOF on, in a temp dir) and waits until it answers. */
export async function startRedisServer(options: { port?: number; dir?: string; appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const port = options.port ?? freePort();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mailroom-redis-'));
  const proc = Bun.spawn(
    ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendonly === false ? 'no' : 'yes', '--dir', dir],
    { stdout: 'ignore', stderr: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const c = createClient({ url });
      c.on('error', () => {});
      await c.connect();
      await c.ping();
      await c.quit();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await Bun.sleep(50);
    }
  }
  return {
    url,
    port,
    dir,
    proc,
    async stop() {
      proc.kill('SIGKILL');
      await proc.exited;
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value, or throws after `timeoutMs` naming what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await Bun.sleep(everyMs);
  }
}
