/**
 * Nothing Mailroom starts is reachable from another machine unless configured: `bun services/system.ts --dev` (what
 * `bun run dev` runs) on free ports, and every listening socket of every process it starts — the services, the
 * provider, the gateway, the control plane, Vite and the private redis-server — read from the kernel (`/proc`). By
 * default each binds 127.0.0.1 only; `MAILROOM_HOST` moves the servers (here to 127.0.0.2, still loopback), never
 * the private Redis, which stays on 127.0.0.1. The running system is also asked over real sockets what the in-process
 * security tests check: the control plane wants this run's token, and no process answers a foreign origin with CORS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, descendantsOf, freePortOffset, isAlive, ROOT, waitFor } from '../supervisor/helpers.ts';
import { listenersOf } from './listeners.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-bind-'));
const started: ReturnType<typeof Bun.spawn>[] = [];
afterAll(async () => {
  for (const proc of started) if (proc.exitCode === null) proc.kill('SIGINT');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dataDir, { recursive: true, force: true });
});

type Row = { name: string; url: string; port: number; pid: number };

/** Starts the whole system with `env`, returns the table it printed, and a stop function that waits for every pid. */
async function startSystem(env: Record<string, string | undefined>) {
  const proc = Bun.spawn([process.execPath, 'services/system.ts', '--dev'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: undefined, NO_COLOR: '1', MAILROOM_DATA_DIR: dataDir, MAILROOM_PORT_OFFSET: String(await freePortOffset()), ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  started.push(proc);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  try {
    await stdout.until('Ctrl-C stops everything.', 45_000);
  } catch (error) {
    proc.kill('SIGINT');
    throw new Error(`${(error as Error).message}\nstdout:\n${stdout.text}\nstderr:\n${stderr.text}`);
  }
  const rows: Row[] = [...stdout.text.matchAll(/^ {2}(\S+) +((?:http|redis):\/\/\S+?)\/? +(\d+)$/gm)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
    port: Number(new URL(m[2]!).port),
    pid: Number(m[3]),
  }));
  return {
    rows,
    async stop() {
      const pids = [...rows.map((r) => r.pid), ...descendantsOf(proc.pid)];
      proc.kill('SIGINT');
      await proc.exited;
      await waitFor('every process of the system to exit', () => !pids.some(isAlive), 10_000);
    },
  };
}

/** Each process's listening sockets (its own and its children's: Vite runs under `bun x`), as `address:port`. */
function listening(rows: Row[]): Record<string, string[]> {
  return Object.fromEntries(rows.map((r) => [r.name, listenersOf([r.pid, ...descendantsOf(r.pid)]).map((l) => `${l.address}:${l.port}`).sort()]));
}

const EVERY_PROCESS = ['redis', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway', 'control', 'panel'];

describe('bun run dev on the default host', () => {
  let system: Awaited<ReturnType<typeof startSystem>>;
  beforeAll(async () => {
    system = await startSystem({ MAILROOM_HOST: undefined });
  }, 60_000);
  afterAll(() => system?.stop(), 15_000);
  const url = (name: string) => system.rows.find((r) => r.name === name)!.url;

  it('should bind every server and the private Redis to 127.0.0.1 only', () => {
    expect(system.rows.map((r) => r.name)).toEqual(EVERY_PROCESS);
    const seen = listening(system.rows);
    for (const row of system.rows) {
      // Exactly its own port, on loopback: no 0.0.0.0, no ::, no second socket elsewhere.
      expect({ process: row.name, listening: seen[row.name] }).toEqual({ process: row.name, listening: [`127.0.0.1:${row.port}`] });
    }
  });

  it('should refuse a control mutation over HTTP without this run’s token, and accept it with the token', async () => {
    const token = readFileSync(join(dataDir, 'control-token'), 'utf8').trim();
    const stopLoad = (authorization?: string) =>
      fetch(`${url('control')}/control/load`, { method: 'DELETE', headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(5_000) });
    for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${token}x`]) {
      const res = await stopLoad(authorization);
      expect({ authorization, status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ authorization, status: 401, code: 'UNAUTHORIZED' });
    }
    const res = await stopLoad(`Bearer ${token}`);
    await res.body?.cancel();
    expect(res.status).toBe(200);
  });

  it('should give a foreign origin no CORS header from any process, and the panel’s origin its own on the control plane', async () => {
    for (const row of system.rows.filter((r) => r.url.startsWith('http'))) {
      const target = row.name === 'panel' ? `${row.url}/` : `${row.url}/health`;
      for (const method of ['GET', 'OPTIONS']) {
        const res = await fetch(target, {
          method,
          headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
          signal: AbortSignal.timeout(5_000),
        });
        await res.body?.cancel();
        expect({ process: row.name, method, allowOrigin: res.headers.get('access-control-allow-origin') }).toEqual({ process: row.name, method, allowOrigin: null });
      }
    }
    const panel = new URL(url('panel')).origin;
    const res = await fetch(`${url('control')}/control/health`, { headers: { origin: panel }, signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    expect(res.headers.get('access-control-allow-origin')).toBe(panel);
  });
});

describe('bun run dev with MAILROOM_HOST', () => {
  it('should bind every server to MAILROOM_HOST, and keep the private Redis on 127.0.0.1', async () => {
    const system = await startSystem({ MAILROOM_HOST: '127.0.0.2' });
    try {
      expect(system.rows.map((r) => r.name)).toEqual(EVERY_PROCESS);
      const seen = listening(system.rows);
      for (const row of system.rows) {
        const host = row.name === 'redis' ? '127.0.0.1' : '127.0.0.2';
        expect({ process: row.name, listening: seen[row.name] }).toEqual({ process: row.name, listening: [`${host}:${row.port}`] });
      }
    } finally {
      await system.stop();
    }
  }, 90_000);
});
