/**
 * The Restate peer of `bun run bench saga --vs restate`: installs `tests/bench/restate/` on first use (its own
 * package.json and lock file; the ~225 MB server binary never enters the root install), then starts
 *   restate-server  the npm package's binary, single node, on free ports, data in a temp dir; its log fsynced on
 *                   every write as by default — only ports, node name, telemetry and log level are set
 *   endpoint        tests/bench/restate/endpoint.ts (the saga as Restate's docs write it) on Bun, HTTP/2
 *   provider        Mailroom's own payment-provider process, on the bench's Redis under its own key prefix
 * registers the endpoint through the admin API, seeds the SKUs, and places orders through the ingress: one
 * `POST /orderSaga/place` per order with an idempotency key, answered once the saga has confirmed or compensated.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withAllocatorDefaults } from '../../runtime/process/allocator.ts';
import type { BenchOrder } from './_orders.ts';
import { processCpuMs, processDiskBytes } from './_shop.ts';

export const PEER_DIR = join(import.meta.dir, 'restate');
export const RESTATE_PROCESSES = ['restate-server', 'endpoint', 'provider'] as const;
export type RestateProcess = (typeof RESTATE_PROCESSES)[number];

const SERVER_BIN = join(PEER_DIR, 'node_modules/@restatedev/restate-server-linux-x64/bin/restate-server');
const REPO = join(import.meta.dir, '../..');

export type PlaceOutcome = { state: 'confirmed' } | { state: 'cancelled' } | { state: 'rejected'; why: string };

export type RestatePeer = {
  version: string;
  /** Places one order and resolves once the saga has settled (the ingress answers with its outcome). */
  place(orderId: string, key: string, order: BenchOrder): Promise<PlaceOutcome>;
  /** CPU ms (user + system) each process has used so far. */
  cpuMs(): Record<RestateProcess, number>;
  /** Bytes each process has caused to be written to disk so far. */
  diskBytes(): Record<RestateProcess, number>;
  stop(): Promise<void>;
};

/** `bun install` in the peer's folder unless its server binary is already there. */
export async function ensurePeerInstalled(log: (line: string) => void = console.log): Promise<void> {
  if (existsSync(SERVER_BIN)) return;
  log(`installing the Restate peer in ${PEER_DIR} (first use; the server binary is ~225 MB)…`);
  const proc = Bun.spawn(['bun', 'install', '--frozen-lockfile'], { cwd: PEER_DIR, stdout: 'inherit', stderr: 'inherit' });
  if ((await proc.exited) !== 0 || !existsSync(SERVER_BIN)) throw new Error(`bun install in ${PEER_DIR} failed`);
}

function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function until(what: string, ok: () => Promise<boolean>, alive: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (!alive()) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${ms} ms`);
    await Bun.sleep(100);
  }
}

function passStderr(name: string, proc: ReturnType<typeof Bun.spawn>): void {
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      for (const line of new TextDecoder().decode(chunk).split('\n')) {
        // The server checks GitHub for a newer release at start; there is no internet here.
        if (line.trim() && !/octocrab|client error \(Connect\)|rs:worker/.test(line)) process.stderr.write(`[${name}] ${line}\n`);
      }
    }
  })();
}

/**
 * Starts the server, the endpoint and the provider, registers the endpoint and seeds `skus` with `stock` units each.
 *
 * @example
 * const peer = await startRestatePeer({ redis: 'redis://127.0.0.1:6390', prefix: 'bench-restate-1', skus: [{ sku: 'BOX-S', price: 199 }], stock: 100_000 });
 */
export async function startRestatePeer(options: { redis: string; prefix: string; skus: { sku: string; price: number }[]; stock: number }): Promise<RestatePeer> {
  await ensurePeerInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-restate-'));
  const [ingress, admin, fabric, endpointPort, providerPort] = [freePort(), freePort(), freePort(), freePort(), freePort()];
  const procs = new Map<RestateProcess, ReturnType<typeof Bun.spawn>>();
  const stop = async () => {
    for (const proc of procs.values()) if (proc.exitCode === null) proc.kill('SIGTERM');
    await Promise.all([...procs.values()].map((p) => Promise.race([p.exited, Bun.sleep(10_000).then(() => p.kill('SIGKILL'))])));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const server = Bun.spawn([SERVER_BIN, '--no-logo', '--base-dir', join(dir, 'data'), '--node-name', 'bench', '--cluster-name', `bench-${process.pid}`], {
      cwd: dir,
      env: {
        ...process.env,
        RESTATE_LISTEN_MODE: 'tcp',
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
        RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
        RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${fabric}/`,
        RESTATE_DISABLE_TELEMETRY: 'true',
        RESTATE_LOG_FILTER: process.env.RESTATE_LOG_FILTER ?? 'warn',
      },
      stdout: 'ignore',
      stderr: 'pipe',
    });
    procs.set('restate-server', server);
    passStderr('restate-server', server);
    const provider = Bun.spawn(['bun', 'services/payment-provider/main.ts'], {
      cwd: REPO,
      env: withAllocatorDefaults({ ...process.env, REDIS_URL: options.redis, MAILROOM_PREFIX: options.prefix, MAILROOM_PORT_PROVIDER: String(providerPort), MAILROOM_SUPERVISOR_PID: '' }),
      stdout: 'ignore',
      stderr: 'pipe',
    });
    procs.set('provider', provider);
    passStderr('provider', provider);
    const endpoint = Bun.spawn(['bun', join(PEER_DIR, 'endpoint.ts')], {
      cwd: PEER_DIR,
      // The SDK endpoint runs on Bun as Mailroom's processes do, with the same allocator setting (runtime/process/allocator.ts).
      env: withAllocatorDefaults({ RESTATE_LOGGING: 'ERROR', ...process.env, PORT: String(endpointPort), PROVIDER_URL: `http://127.0.0.1:${providerPort}` }),
      stdout: 'ignore',
      stderr: 'pipe',
    });
    procs.set('endpoint', endpoint);
    passStderr('endpoint', endpoint);

    const adminUrl = `http://127.0.0.1:${admin}`;
    await until('restate-server', async () => (await fetch(`${adminUrl}/health`)).ok && (await fetch(`http://127.0.0.1:${ingress}/restate/health`)).ok, () => server.exitCode === null);
    await until('provider', async () => (await fetch(`http://127.0.0.1:${providerPort}/health`)).ok, () => provider.exitCode === null);
    await until('endpoint', async () => {
      const res = await fetch(`${adminUrl}/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}`, force: true }),
      });
      return res.status === 201 || res.status === 200;
    }, () => endpoint.exitCode === null);
    const version = String(((await (await fetch(`${adminUrl}/version`)).json()) as { version?: string }).version ?? '?');

    const ingressUrl = `http://127.0.0.1:${ingress}`;
    // The ingress may answer 404 for a moment after registration while the schema spreads to the partitions.
    for (const { sku, price } of options.skus) {
      await until(`seeding ${sku}`, async () => {
        const res = await fetch(`${ingressUrl}/sku/${sku}/restock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qty: options.stock, price }) });
        await res.arrayBuffer();
        return res.ok;
      }, () => server.exitCode === null, 30_000);
    }

    return {
      version,
      async place(orderId, key, order) {
        const body = JSON.stringify({
          orderId,
          customer: { name: 'Bench Customer', email: 'bench@example.com' },
          lines: order.lines,
          address: { name: 'Bench Customer', line1: '1 Load Street', city: 'London', country: order.country },
        });
        try {
          const res = await fetch(`${ingressUrl}/orderSaga/place`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
          const text = await res.text();
          if (!res.ok) return { state: 'rejected', why: `${res.status} ${text.slice(0, 80)}` };
          const outcome = JSON.parse(text) as { state: string };
          return outcome.state === 'confirmed' ? { state: 'confirmed' } : { state: 'cancelled' };
        } catch (error) {
          return { state: 'rejected', why: String(error) };
        }
      },
      cpuMs: () => Object.fromEntries(RESTATE_PROCESSES.map((name) => [name, processCpuMs(procs.get(name)!.pid)])) as Record<RestateProcess, number>,
      diskBytes: () => Object.fromEntries(RESTATE_PROCESSES.map((name) => [name, processDiskBytes(procs.get(name)!.pid)])) as Record<RestateProcess, number>,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
