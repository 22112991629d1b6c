/**
 * The whole shop as real processes for a test file: order, inventory, payment, shipping, the payment provider and
 * the gateway, each `bun services/<name>/main.ts` under one free port range (`MAILROOM_PORT_OFFSET`) and one test
 * key prefix on the shared Redis. A test can stop, pause (SIGSTOP), resume and restart any of them; every process
 * started here is killed in `close()`, and in an `afterAll` of its own in case the file forgets.
 */
import { afterAll } from 'bun:test';
import { withAllocatorDefaults } from '../../runtime/process/allocator.ts';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { SHARED_REDIS, waitFor } from './redis.ts';
import { freeLoopbackOffset } from './port-offset.ts';
import { BUN_PROCESSES } from '../../services/processes.ts';

export const SHOP_PROCESSES = ['order', 'inventory', 'payment', 'shipping', 'provider', 'gateway'] as const;
/** Processes a test asks for by name (`startShop(prefix, env, ['notifications'])`); the others do without them. */
export const OPTIONAL_PROCESSES = ['notifications'] as const;
export type ShopProcess = (typeof SHOP_PROCESSES)[number] | (typeof OPTIONAL_PROCESSES)[number];

/** Each process's entry file, as the supervisor starts it. */
const ENTRY = Object.fromEntries(BUN_PROCESSES) as Record<ShopProcess, string>;

export type Shop = {
  prefix: string;
  offset: number;
  url(name: ShopProcess, path: string): string;
  /** Starts a process (again) and waits for its `/health`; `entry` runs another main file in its place (a new release of it). */
  start(name: ShopProcess, entry?: string): Promise<void>;
  /** Sends a signal; SIGKILL and SIGTERM also wait for the exit. */
  signal(name: ShopProcess, signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  pid(name: ShopProcess): number | undefined;
  /** The last characters a process wrote (stdout and stderr), for failure messages. */
  output(name: ShopProcess, chars?: number): string;
  close(): Promise<void>;
};

const everyShop = new Set<Shop>();
afterAll(async () => {
  await Promise.all([...everyShop].map((shop) => shop.close()));
});

/**
 * Starts every process with `env` on top of the test's (e.g. a short saga step timeout), and the `optional` ones
 * asked for, and waits until all answer.
 *
 * @example
 * const shop = await startShop(testPrefix('saga'), { MAILROOM_SAGA_SHIPPING_TIMEOUT_MS: '700' });
 * await fetch(shop.url('gateway', '/api/catalogue'));
 */
export async function startShop(prefix: string, env: Record<string, string> = {}, optional: readonly (typeof OPTIONAL_PROCESSES)[number][] = []): Promise<Shop> {
  const names: readonly ShopProcess[] = [...SHOP_PROCESSES, ...optional];
  const offset = freeLoopbackOffset(names);
  const procs = new Map<ShopProcess, ReturnType<typeof Bun.spawn>>();
  const outputs = new Map<ShopProcess, string[]>();
  const url = (name: ShopProcess, path: string) => `http://127.0.0.1:${DEFAULT_PORTS[name] + offset}${path}`;

  const spawn = (name: ShopProcess, entry = ENTRY[name]) => {
    const proc = Bun.spawn(['bun', entry], {
      env: withAllocatorDefaults({ ...process.env, MAILROOM_PORT_OFFSET: String(offset), MAILROOM_PREFIX: prefix, REDIS_URL: SHARED_REDIS, MAILROOM_SUPERVISOR_PID: '', ...env }),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const lines = outputs.get(name) ?? [];
    lines.push(`--- pid ${proc.pid} ---\n`);
    outputs.set(name, lines);
    for (const stream of [proc.stdout, proc.stderr]) {
      void (async () => {
        for await (const chunk of stream as ReadableStream<Uint8Array>) {
          lines.push(new TextDecoder().decode(chunk));
          if (lines.length > 400) lines.splice(0, lines.length - 400);
        }
      })();
    }
    procs.set(name, proc);
  };
  const output = (name: ShopProcess, chars = 1_500) => (outputs.get(name) ?? []).join('').slice(-chars);
  const healthy = (name: ShopProcess) =>
    waitFor(
      `${name} to answer /health`,
      async () => {
        if (procs.get(name)?.exitCode !== null) throw new Error(`${name} exited: ${output(name, 600)}`);
        return (await fetch(url(name, '/health'))).status === 200;
      },
      20_000,
      50,
    )
      // Inventory answers before its catalogue is in; orders need the catalogue.
      .then(() => name === 'inventory' && waitFor('the catalogue to be seeded', () => output(name, 100_000).split('--- pid ').at(-1)!.includes('catalogue seeded'), 20_000, 50))
      .catch((error) => {
        throw new Error(`${(error as Error).message}; its output: ${output(name, 3_000)}`);
      });

  const shop: Shop = {
    prefix,
    offset,
    url,
    async start(name, entry) {
      spawn(name, entry);
      await healthy(name);
    },
    async signal(name, signal) {
      const proc = procs.get(name);
      if (!proc || proc.exitCode !== null) return;
      proc.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') {
        await Promise.race([proc.exited, Bun.sleep(3_000).then(() => proc.kill('SIGKILL'))]);
        await proc.exited;
      }
    },
    pid: (name) => procs.get(name)?.pid,
    output,
    async close() {
      everyShop.delete(shop);
      for (const proc of procs.values()) {
        if (proc.exitCode !== null) continue;
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
      }
      await Promise.all([...procs.values()].map((p) => Promise.race([p.exited, Bun.sleep(3_000).then(() => p.kill('SIGKILL'))])));
      await Promise.all([...procs.values()].map((p) => p.exited));
    },
  };
  everyShop.add(shop);
  for (const name of names) spawn(name);
  try {
    await Promise.all(names.map(healthy));
  } catch (error) {
    await shop.close();
    throw error;
  }
  return shop;
}

/**
 * Places an order of one `BOX-M` through the shop's gateway with Idempotency-Key `key` (15 s at most).
 *
 * @example
 * const res = await placeOrder(shop, 'order-1'); // 202, or a refusal
 */
export function placeOrder(shop: Shop, key: string, name = 'Ada Admission') {
  return fetch(shop.url('gateway', '/api/orders'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({
      customer: { name, email: 'ada@example.com' },
      lines: [{ sku: 'BOX-M', qty: 1 }],
      address: { name, line1: '1 Queue Street', city: 'London', country: 'GB' },
    }),
    signal: AbortSignal.timeout(15_000),
  });
}

/** An order's state as the gateway shows it, or `HTTP <status>` when it does not answer 200 (404: no such order). */
export async function orderStateOf(shop: Shop, orderId: string): Promise<string> {
  const res = await fetch(shop.url('gateway', `/api/orders/${orderId}`));
  return res.status === 200 ? ((await res.json()) as { order: { state: string } }).order.state : `HTTP ${res.status}`;
}
