/**
 * `bun run start` (`bun services/system.ts`) with `MAILROOM_EXPOSED=1`, on free ports with a private Redis: the
 * supervisor keeps a service credential in the data directory and hands it to every child, gives its private Redis an
 * ACL user with a password (and says so without printing it), and the system comes up healthy with every process
 * reaching Redis and each other — while a caller without credentials gets 401s from the control plane and the
 * services, and an anonymous Redis client gets NOAUTH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { collect, descendantsOf, freePortOffset, isAlive, ROOT, waitFor } from '../supervisor/helpers.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-exposed-system-'));
let proc: ReturnType<typeof Bun.spawn> | undefined;
let stdout: ReturnType<typeof collect>;
let rows: { name: string; url: string; pid: number }[] = [];

beforeAll(async () => {
  proc = Bun.spawn([process.execPath, 'services/system.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: undefined, NO_COLOR: '1', MAILROOM_DATA_DIR: dataDir, MAILROOM_PORT_OFFSET: String(await freePortOffset()), MAILROOM_EXPOSED: '1', MAILROOM_SERVICE_TOKEN: undefined, MAILROOM_HOST: undefined },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  stdout = collect(proc.stdout as ReadableStream<Uint8Array>);
  const stderr = collect(proc.stderr as ReadableStream<Uint8Array>);
  try {
    await stdout.until('Ctrl-C stops everything.', 45_000);
  } catch (error) {
    proc.kill('SIGINT');
    throw new Error(`${(error as Error).message}\nstdout:\n${stdout.text}\nstderr:\n${stderr.text}`);
  }
  rows = [...stdout.text.matchAll(/^ {2}(\S+) +((?:http|redis):\/\/\S+?)\/? +(\d+)$/gm)].map((m) => ({ name: m[1]!, url: m[2]!, pid: Number(m[3]) }));
}, 60_000);

afterAll(async () => {
  if (proc) {
    const pids = [...rows.map((r) => r.pid), ...descendantsOf(proc.pid)];
    proc.kill('SIGINT');
    await proc.exited;
    await waitFor('every process of the system to exit', () => !pids.some(isAlive), 10_000);
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 20_000);

const url = (name: string) => rows.find((r) => r.name === name)!.url;
const secret = (name: string) => readFileSync(join(dataDir, name), 'utf8').trim();

describe('bun run start, exposed', () => {
  it('should keep a service credential and a Redis password in the data directory, and print neither', () => {
    for (const file of ['service-token', 'redis-password', 'control-token']) expect({ file, kept: existsSync(join(dataDir, file)) }).toEqual({ file, kept: true });
    expect(stdout.text).toContain('exposed: every request needs a credential');
    expect(stdout.text).not.toContain(secret('service-token'));
    expect(stdout.text).not.toContain(secret('redis-password'));
    expect(url('redis')).toMatch(/^redis:\/\/mailroom:\*\*\*@127\.0\.0\.1:\d+$/);
  });

  it('should run its private Redis with the password: the ACL user gets in, an anonymous client gets NOAUTH', async () => {
    const port = new URL(url('redis')).port;
    const admin = createClient({ url: `redis://mailroom:${secret('redis-password')}@127.0.0.1:${port}` });
    await admin.connect();
    const clients = async () =>
      String(await admin.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], user: /\buser=(\S+)/.exec(line)?.[1] }));
    // Every connection is the ACL user's. One still in its handshake shows as `default` until its AUTH (a process
    // opening a connection at this moment): such a one must be gone, authenticated or closed, moments later.
    const own = String(await admin.sendCommand(['CLIENT', 'ID']));
    const others = (await clients()).filter((c) => c.id !== own);
    // The system's own processes are connected, each as the ACL user (or in its handshake, below).
    expect(others.filter((c) => c.user === 'mailroom').length).toBeGreaterThan(0);
    let anonymousIds = others.filter((c) => c.user !== 'mailroom').map((c) => c.id);
    for (let i = 0; i < 20 && anonymousIds.length > 0; i++) {
      await Bun.sleep(100);
      const now = await clients();
      anonymousIds = anonymousIds.filter((id) => now.some((c) => c.id === id && c.user !== 'mailroom'));
    }
    expect(anonymousIds).toEqual([]);
    await admin.quit();
    const anonymous = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    anonymous.on('error', () => {});
    expect((await rejectionOf(anonymous.connect())).message).toMatch(/NOAUTH/);
    anonymous.destroy();
  });

  it('should want the control token on control reads and the service credential on the services, and work with them', async () => {
    const control = secret('control-token');
    const refused = await fetch(`${url('control')}/control/topology`, { headers: { host: '127.0.0.1' } });
    expect({ status: refused.status, code: ((await refused.json()) as { code: string }).code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    const topology = (await (await fetch(`${url('control')}/control/topology`, { headers: { authorization: `Bearer ${control}` } })).json()) as { processes: { name: string; status: string }[] };
    expect(topology.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['redis', 'order', 'inventory', 'payment', 'shipping', 'provider', 'gateway', 'control']));
    expect(topology.processes.filter((p) => p.status !== 'up').map((p) => p.name)).toEqual([]);
    // The control plane reaches payment and the gateway with the service credential the supervisor handed it.
    const breakers = (await (await fetch(`${url('control')}/control/breakers`, { headers: { authorization: `Bearer ${control}` } })).json()) as { process: string; state: string }[];
    expect(breakers.filter((b) => b.state === 'unreachable')).toEqual([]);
    expect(breakers.map((b) => b.process)).toEqual(expect.arrayContaining(['payment', 'gateway']));

    const restock = (authorization?: string) =>
      fetch(`${url('inventory')}/skus/BOX-S/restock`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `exposed-${Date.now()}`, ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ qty: 1 }) });
    const without = await restock();
    expect({ status: without.status, code: ((await without.json()) as { code: string }).code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    const withIt = await restock(`Bearer ${secret('service-token')}`);
    await withIt.body?.cancel();
    expect(withIt.status).toBeLessThan(300);
  });
});
