/**
 * Helpers for the supervisor tests: a port offset where every Mailroom port is free (so a test never clashes with a
 * `bun run dev` on the same machine or another test), process liveness by pid, and reading a child's output until a
 * line shows up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { isPortFree } from '../../runtime/supervisor/prerequisites.ts';

export const ROOT = resolve(import.meta.dir, '../..');

/** A port the kernel says is free right now (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * A `MAILROOM_PORT_OFFSET` under which every default port (3000…6380 + offset) is free: the offset is derived from
 * a kernel-chosen free port, then every shifted port is checked.
 */
export async function freePortOffset(): Promise<number> {
  const ports = Object.values(DEFAULT_PORTS);
  const base = Math.min(...ports);
  const span = Math.max(...ports) - base;
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+): a port there can be taken by any outbound connection before the child binds it.
    const offset = 1000 + Math.floor(Math.random() * (32_000 - base - span - 1000));
    if (offset < 1000 || base + offset + span > 65_000) continue;
    const free = await Promise.all(ports.map((p) => isPortFree('127.0.0.1', p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('could not find a free port offset');
}

/** Whether a pid is a live process (a zombie waiting to be reaped counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every live descendant of `pid` (children of children too), from /proc. */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found.filter(isAlive);
}

/** Waits until `predicate` holds, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await predicate()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Collects a stream's text as it arrives; `until(text)` waits for it to appear. */
export function collect(stream: ReadableStream<Uint8Array>) {
  let text = '';
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return {
    get text() {
      return text;
    },
    done,
    until(needle: string, timeoutMs = 30_000) {
      return waitFor(`"${needle}" in the output`, () => text.includes(needle), timeoutMs);
    },
  };
}

/** GET a URL; the status, or 0 when nothing answers. */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}
