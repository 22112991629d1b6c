/**
 * The shop for a benchmark: order, inventory, payment, shipping, the payment provider and the gateway, each its own
 * `bun services/<name>/main.ts` process on one Redis under a free port range, some of them under `bun --cpu-prof`
 * when asked; and each process's CPU time read from `/proc`, so a run can say which process the time went to.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAllocatorDefaults } from '../../runtime/process/allocator.ts';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { freeLoopbackOffset } from '../helpers/port-offset.ts';
import { BUN_PROCESSES } from '../../services/processes.ts';

export const SHOP = ['order', 'inventory', 'payment', 'shipping', 'provider', 'gateway'] as const;
export type ShopName = (typeof SHOP)[number];
/** What `together` puts in order's process beside it. */
const TOGETHER: readonly ShopName[] = ['inventory', 'payment', 'shipping'];

/** Each process's entry file, as the supervisor starts it. */
const ENTRY = Object.fromEntries(BUN_PROCESSES) as Record<ShopName, string>;

export type BenchShop = {
  url(name: ShopName, path: string): string;
  pid(name: ShopName): number;
  /** CPU ms (user + system) each process has used so far. */
  cpuMs(): Record<ShopName, number>;
  /** Of that, what each main thread has used so far (`processMainThreadMs`). */
  mainThreadMs(): Record<ShopName, number>;
  /** Bytes each process has caused to be written to disk so far. */
  diskBytes(): Record<ShopName, number>;
  /** Times each process's main thread has gone to sleep and been woken so far (`processWakeUps`). */
  wakeUps(): Record<ShopName, number>;
  /** SIGTERM to all (a profiled process writes its profile as it exits), SIGKILL after 5 s. */
  stop(): Promise<void>;
};

/** Bytes a process has caused to be written to disk (`write_bytes` of /proc/<pid>/io, all its threads); NaN when unreadable. */
export function processDiskBytes(pid: number): number {
  try {
    return Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/**
 * Voluntary context switches of a process's main thread so far (`/proc/<pid>/status`): each is its event loop
 * going to sleep with nothing to do and being woken by a socket or a timer. NaN when unreadable.
 */
export function processWakeUps(pid: number): number {
  try {
    return Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** CPU ms a process has used, from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * CPU ms a process's main thread has used (/proc/<pid>/task/<pid>/stat): the rest of `processCpuMs` is its other
 * threads' — JIT compilers above all (a Bun process compiles its hot code through its first minute or so under
 * load; those threads come and go, so their time is only known as this difference), the GC's helpers, the HTTP
 * client's thread. NaN when unreadable.
 */
export function processMainThreadMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Starts every process and waits for each `/health` and the seeded catalogue. `profileDir`: the processes named in
 * `profiled` run under `bun --cpu-prof`, each writing into `<profileDir>/<name>/`.
 *
 * @example
 * const shop = await startBenchShop({ redis: 'redis://127.0.0.1:6390', prefix: 'bench-saga-1', env: {} });
 */
export async function startBenchShop(options: {
  redis: string;
  prefix: string;
  env?: Record<string, string>;
  profileDir?: string;
  profiled?: readonly ShopName[];
  /** The four actor services in one process (`_together.ts`): its figures are order's, the other three's are 0. */
  together?: boolean;
}): Promise<BenchShop> {
  const offset = freeLoopbackOffset(SHOP);
  const url = (name: ShopName, path: string) => `http://127.0.0.1:${DEFAULT_PORTS[name] + offset}${path}`;
  const procs = new Map<ShopName, ReturnType<typeof Bun.spawn>>();
  let seeded = false;
  const hostedByOrder = (name: ShopName) => options.together === true && TOGETHER.includes(name);
  for (const name of SHOP) {
    if (hostedByOrder(name)) {
      procs.set(name, procs.get('order')!);
      continue;
    }
    const flags: string[] = [];
    if (options.profileDir && options.profiled?.includes(name)) {
      const dir = join(options.profileDir, name);
      mkdirSync(dir, { recursive: true });
      flags.push('--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${dir}`);
    }
    const entry = options.together && name === 'order' ? join(import.meta.dir, '_together.ts') : ENTRY[name];
    const proc = Bun.spawn(['bun', ...flags, entry], {
      // The allocator's setting the supervisor gives every process (runtime/process/allocator.ts).
      env: withAllocatorDefaults({ ...process.env, ...options.env, MAILROOM_PORT_OFFSET: String(offset), MAILROOM_PREFIX: options.prefix, REDIS_URL: options.redis, MAILROOM_SUPERVISOR_PID: '' }),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    procs.set(name, proc);
    // Services log little; pass on what they say on stderr (errors), and watch for the seeded catalogue.
    void (async () => {
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) if ((name === 'inventory' || (options.together && name === 'order')) && new TextDecoder().decode(chunk).includes('catalogue seeded')) seeded = true;
    })();
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        for (const line of new TextDecoder().decode(chunk).split('\n')) if (line.trim()) process.stderr.write(`[${name}] ${line}\n`);
      }
    })();
  }
  // A process's figure counts once: under order's name when it hosts the four services.
  const perProcess = (read: (pid: number) => number) =>
    Object.fromEntries(SHOP.map((name) => [name, hostedByOrder(name) ? 0 : read(procs.get(name)!.pid)])) as Record<ShopName, number>;
  const shop: BenchShop = {
    url,
    pid: (name) => procs.get(name)!.pid,
    cpuMs: () => perProcess(processCpuMs),
    mainThreadMs: () => perProcess(processMainThreadMs),
    diskBytes: () => perProcess(processDiskBytes),
    wakeUps: () => perProcess(processWakeUps),
    async stop() {
      const all = new Set(procs.values());
      for (const proc of all) if (proc.exitCode === null) proc.kill('SIGTERM');
      await Promise.all([...all].map((p) => Promise.race([p.exited, Bun.sleep(5_000).then(() => p.kill('SIGKILL'))])));
    },
  };
  const deadline = Date.now() + 30_000;
  for (const name of SHOP) {
    for (;;) {
      const ok = await fetch(url(name, '/health')).then((r) => r.status === 200, () => false);
      if (ok && (name !== 'inventory' || seeded)) break;
      if (procs.get(name)!.exitCode !== null || Date.now() > deadline) {
        await shop.stop();
        throw new Error(`${name} did not start (exit code ${procs.get(name)!.exitCode})`);
      }
      await Bun.sleep(50);
    }
  }
  return shop;
}
