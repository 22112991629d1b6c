/**
 * `bun services/system.ts` (what `bun run dev` runs) as a person uses it: it prints one table of processes and pids,
 * Ctrl-C (SIGINT) leaves no process behind — Vite's own children included — and a taken port or a missing
 * redis-server is one clear line on stderr and a non-zero exit, not a stack trace.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { portOf } from '../../services/config.ts';
import { collect, descendantsOf, freePortOffset, isAlive, ROOT, statusOf, waitFor } from './helpers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function cliEnv(extra: Record<string, string> = {}): Promise<Record<string, string | undefined>> {
  return {
    ...process.env,
    REDIS_URL: undefined,
    NO_COLOR: '1',
    MAILROOM_DATA_DIR: dataDir,
    MAILROOM_PORT_OFFSET: String(await freePortOffset()),
    ...extra,
  };
}

function runCli(args: string[], env: Record<string, string | undefined>) {
  const proc = Bun.spawn([process.execPath, 'services/system.ts', ...args], {
    cwd: ROOT,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return { proc, stdout: collect(proc.stdout), stderr: collect(proc.stderr) };
}

/** The table rows: name, url, pid. */
function tableOf(stdout: string): Array<{ name: string; url: string; pid: number }> {
  return [...stdout.matchAll(/^ {2}(\S+) +((?:http|redis):\/\/\S+) +(\d+)$/gm)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
    pid: Number(m[3]),
  }));
}

describe('bun services/system.ts', () => {
  it('should print a table of every process with a pid, and stop them all (Vite included) on SIGINT', async () => {
    const env = await cliEnv();
    const { proc, stdout, stderr } = runCli(['--dev'], env);
    try {
      await stdout.until('Ctrl-C stops everything.', 40_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstdout:\n${stdout.text}\nstderr:\n${stderr.text}`);
    }
    const rows = tableOf(stdout.text);
    expect(rows.map((r) => r.name)).toEqual(['redis', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway', 'control', 'panel']);
    // The panel URL carries the control token, kept (mode 600) in the data directory.
    const token = readFileSync(join(dataDir, 'control-token'), 'utf8').trim();
    expect(statSync(join(dataDir, 'control-token')).mode & 0o777).toBe(0o600);
    expect(stdout.text).toContain(`panel: http://127.0.0.1:${portOf('panel', env)}/?token=${token}\n`);
    for (const row of rows.filter((r) => r.url.startsWith('http'))) {
      const health = row.name === 'panel' ? row.url : `${row.url}/health`;
      expect(`${row.name} ${await statusOf(health)}`).toBe(`${row.name} 200`);
    }

    // Every process in the tree, not only the ones in the table: Vite runs under `bun x`, with its own children.
    const pids = [...new Set([...rows.map((r) => r.pid), ...descendantsOf(proc.pid)])];
    expect(pids.length).toBeGreaterThan(rows.length);
    expect(pids.every(isAlive)).toBe(true);

    const stopping = performance.now();
    proc.kill('SIGINT');
    const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => 'still running')]);
    expect(code).toBe(0);
    await waitFor('every child to be gone', () => !pids.some(isAlive), 5000 - (performance.now() - stopping));
    expect(pids.filter(isAlive)).toEqual([]);
    expect(stdout.text).toContain('supervisor: all processes stopped');
  }, 60_000);

  it('should not leave services behind when the supervisor is SIGKILLed, and reclaim its Redis on the next start', async () => {
    const env = await cliEnv();
    const first = runCli([], env);
    await first.stdout.until('Ctrl-C stops everything.');
    const rows = tableOf(first.stdout.text);
    const redisPid = rows.find((r) => r.name === 'redis')!.pid;
    const servicePids = rows.filter((r) => r.name !== 'redis').map((r) => r.pid);
    expect(servicePids).toHaveLength(8);

    first.proc.kill('SIGKILL');
    await first.proc.exited;
    // Each service notices its supervisor is gone (it checks every second) and exits by itself.
    await waitFor('the services to exit on their own', () => !servicePids.some(isAlive), 5000);
    expect(isAlive(redisPid)).toBe(true); // redis-server cannot watch for us: the next start deals with it

    const second = runCli([], env);
    await second.stdout.until('Ctrl-C stops everything.');
    expect(second.stdout.text).toContain(`supervisor: stopped a private Redis left running by an earlier run (pid ${redisPid})`);
    expect(isAlive(redisPid)).toBe(false);
    // `start` mode: the control plane serves the panel, with the same token as the run before.
    const token = readFileSync(join(dataDir, 'control-token'), 'utf8').trim();
    expect(second.stdout.text).toContain(`panel: http://127.0.0.1:${portOf('control', env)}/?token=${token}\n`);
    const pids = tableOf(second.stdout.text).map((r) => r.pid);
    second.proc.kill('SIGINT');
    expect(await second.proc.exited).toBe(0);
    await waitFor('every child to be gone', () => !pids.some(isAlive), 5000);
  }, 40_000);

  it('should refuse a taken port with one line naming the port and its holder, and start nothing', async () => {
    const env = await cliEnv();
    const port = portOf('order', env);
    const squatter = Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response('mine') });
    try {
      const { proc, stdout, stderr } = runCli([], env);
      expect(await proc.exited).toBe(1);
      await stderr.done;
      await stdout.done;
      const lines = stderr.text.trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^mailroom: port ${port} \\(order\\) is in use by pid ${process.pid} \\(.+\\): stop it, or set MAILROOM_PORT_ORDER or MAILROOM_PORT_OFFSET$`)),
      ]);
      expect(stderr.text).not.toMatch(/^\s+at /m);
      expect(await statusOf(`http://127.0.0.1:${portOf('gateway', env)}/health`)).toBe(0);
    } finally {
      await squatter.stop(true);
    }
  }, 30_000);

  it('should say so when there is neither a redis-server on PATH nor a REDIS_URL', async () => {
    // PATH holds only Bun's own directory: no redis-server there.
    const env = await cliEnv({ PATH: dirname(process.execPath) });
    const { proc, stderr } = runCli([], env);
    expect(await proc.exited).toBe(1);
    await stderr.done;
    expect(stderr.text.trim()).toBe(
      'mailroom: redis-server is not on PATH and REDIS_URL is not set: install Redis ≥ 7 (e.g. apt-get install redis-server) or set REDIS_URL',
    );
  }, 30_000);
});
