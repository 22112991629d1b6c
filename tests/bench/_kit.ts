/**
 * What the mailbox and actors benchmarks share: flags, a cross-process clock, percentiles, a private Redis for
 * the run, key cleanup by prefix, and child processes that talk to the orchestrator in JSON lines on stdout.
 * Files starting with `_` are helpers, not benchmarks (`bun run bench` skips them).
 */
import { RedisClient } from 'bun';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `--name value` from argv, or the fallback. */
export function flag(name: string, fallback: string): string;
export function flag(name: string): string | undefined;
export function flag(name: string, fallback?: string): string | undefined {
  const args = process.argv;
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1]! : fallback;
}

export const numberFlag = (name: string, fallback: number): number => {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got "${raw}"`);
  return value;
};

/** Wall-clock ms with sub-ms precision, comparable across processes (FINDINGS pitfall 7). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export type Quiet = { waitedMs: number; cores: number; writeMBps: number };

/**
 * Waits (up to `maxMs`) until the processes `sample` reads are quiet — for two consecutive seconds under `cores` of
 * CPU and `writeMBps` of disk writes — so that a phase does not start beside the flushing, compaction or cleanup a
 * previous phase left behind. Only the processes under test count: other users of a shared machine do not hold the
 * bench up. `sample` returns their CPU ms and the bytes they wrote so far. Returns how long it waited and the last
 * second's figures.
 */
export async function waitForQuiet(sample: () => Promise<{ cpuMs: number; diskBytes: number }>, options: { maxMs?: number; cores?: number; writeMBps?: number } = {}): Promise<Quiet> {
  const { maxMs = 30_000, cores = 0.4, writeMBps = 2 } = options;
  const began = Date.now();
  let calm = 0;
  let last = { cores: NaN, writeMBps: NaN };
  while (Date.now() - began < maxMs) {
    const before = await sample(), t0 = performance.now();
    await Bun.sleep(1_000);
    const after = await sample(), ms = performance.now() - t0;
    last = { cores: (after.cpuMs - before.cpuMs) / ms, writeMBps: (after.diskBytes - before.diskBytes) / ms / 1e3 };
    calm = !(last.cores >= cores) && !(last.writeMBps >= writeMBps) ? calm + 1 : 0;
    if (calm >= 2) break;
  }
  return { waitedMs: Date.now() - began, ...last };
}

/** The p-th percentile (0–100) of samples, nearest rank. Sorts in place. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** CPU time (user + system, µs) this process spent since `since`, per message: steadier than rates on a noisy machine. */
export const cpuPerMessage = (since: NodeJS.CpuUsage, messages: number): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / messages;
};

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Prints one JSON line for the orchestrator (a child's only way to report). */
export const report = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** Which actor message `i` of a run goes to: round-robin, so every counter gets `messages / actors` of them. */
export const actorOf = (i: number, actors: number): string => `bench/counter/${i % actors}`;

/** How many of `messages` round-robin messages land on actor `a`. */
export const expectedCount = (a: number, messages: number, actors: number): number =>
  Math.floor(messages / actors) + (a < messages % actors ? 1 : 0);

export type BenchRedis = { url: string; stop(): Promise<void> };

/**
 * The Redis of the run: `REDIS_URL` if set (shared, never flushed), else a private redis-server on a free port
 * with persistence off, so a shared Redis's other load does not distort the figures. `fsync: 'always'`: the AOF on,
 * fsynced before Redis answers the writes of each event-loop pass (`--appendonly yes --appendfsync always`).
 */
export async function benchRedis(options: { fsync?: 'off' | 'always' } = {}): Promise<BenchRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-redis-'));
  const proc = Bun.spawn(
    [
      'redis-server',
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--loglevel', 'warning'],
      ...(options.fsync === 'always' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ],
    { stdout: 'ignore', stderr: 'inherit' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new RedisClient(url, { autoReconnect: false, connectionTimeout: 500 });
    try {
      await client.connect();
      await client.send('PING', []);
      client.close();
      break;
    } catch {
      client.close();
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await Bun.sleep(50);
    }
  }
  return {
    url,
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes every key under `<prefix>:` (SCAN + UNLINK, never FLUSHALL). Returns how many went. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const client = new RedisClient(url);
  await client.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]];
      cursor = next;
      if (keys.length) removed += Number(await client.send('UNLINK', keys));
    } while (cursor !== '0');
  } finally {
    client.close();
  }
  return removed;
}

/** A child process whose stdout is JSON lines; anything else it prints is passed through to our stderr. */
export class Child {
  private readonly lines: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly proc: ReturnType<typeof Bun.spawn>;

  constructor(
    readonly name: string,
    argv: string[],
  ) {
    this.proc = Bun.spawn(argv, { stdout: 'pipe', stderr: 'inherit', stdin: 'ignore' });
    void this.pump();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of this.proc.stdout as ReadableStream<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          process.stderr.write(`[${this.name}] ${line}\n`);
        }
        this.wake();
      }
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Waits for the child's line with `type`, failing if the child exits first or the time runs out. */
  async next<T = Record<string, any>>(type: string, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.lines.findIndex((l) => l.type === type);
      if (at >= 0) return this.lines.splice(at, 1)[0] as T;
      const failure = this.lines.find((l) => l.type === 'error');
      if (failure) throw new Error(`${this.name}: ${String(failure.message)}`);
      if (this.ended) throw new Error(`${this.name} exited (code ${await this.proc.exited}) before reporting "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name} did not report "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the child to exit by itself, killing it after `graceMs`. */
  async done(graceMs = 10_000): Promise<number> {
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const code = await this.proc.exited;
    clearTimeout(t);
    return code;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** Runs `fn`, reporting an uncaught failure as an `error` line so the orchestrator fails loudly with it. */
export async function childMain(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    process.exit(0);
  } catch (error) {
    report({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
}
