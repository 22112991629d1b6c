/**
 * Mailroom's processes, in one list: what `bun run dev` starts (through the supervisor) and what the control plane
 * reports. Every address comes from `services/config.ts`, so env overrides move them all consistently.
 */
import { hostOf } from '../runtime/config.ts';
import { portOf, type ProcessName } from './config.ts';
import type { ProcessSpec } from '../runtime/supervisor/index.ts';
import { SERVICE_NAMES } from './config.ts';

type Env = Record<string, string | undefined>;

/** Bun-run processes, in start and table order: name → entry file. */
export const BUN_PROCESSES: ReadonlyArray<readonly [ProcessName, string]> = [
  ['order', 'services/order/main.ts'],
  ['inventory', 'services/inventory/main.ts'],
  ['payment', 'services/payment/main.ts'],
  ['shipping', 'services/shipping/main.ts'],
  ['provider', 'services/payment-provider/main.ts'],
  ['notifications', 'services/notifications/main.ts'],
  ['gateway', 'services/gateway/main.ts'],
  ['control', 'services/control/main.ts'],
];

/**
 * `http://host:port` of a process.
 *
 * @example
 * originOf('order'); // 'http://127.0.0.1:3001'
 */
export function originOf(name: ProcessName, env: Env = process.env): string {
  return `http://${hostOf(env)}:${portOf(name, env)}`;
}

/** The processes `--replicas N` runs N of: every actor service and the gateway (callers find them by discovery). */
export const REPLICATED: readonly ProcessName[] = [...SERVICE_NAMES, 'gateway'];

/** Replicas are numbered from 1; replica k listens `REPLICA_PORT_STEP × (k − 1)` above its process's port. */
export const REPLICA_PORT_STEP = 10;
export const MAX_REPLICAS = 9;

/**
 * The table name of replica `k` of a process: the first keeps the process's name, so one replica reads as today.
 *
 * @example
 * replicaName('order', 1); // 'order'
 * replicaName('order', 2); // 'order#2'
 */
export function replicaName(name: ProcessName, k: number): string {
  return k === 1 ? name : `${name}#${k}`;
}

/**
 * The processes to supervise. With `dev`, the panel's Vite dev server is one of them; with `replicas` > 1, each
 * replicated process runs that many times, replica k as `<name>#k` on its own port (its `MAILROOM_PORT_<NAME>`).
 *
 * @example
 * mailroomProcesses({ dev: true, bun: process.execPath }).map((p) => p.name); // ['order', …, 'control', 'panel']
 * mailroomProcesses({ dev: false, bun: 'bun', replicas: 2 }).map((p) => p.name); // ['order', 'order#2', 'inventory', …]
 */
export function mailroomProcesses(options: { dev: boolean; bun: string; env?: Env; controlToken?: string; replicas?: number }): ProcessSpec[] {
  const env = options.env ?? process.env;
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new Error(`--replicas must be a whole number from 1 to ${MAX_REPLICAS}, got ${replicas}`);
  const specs: ProcessSpec[] = BUN_PROCESSES.flatMap(([name, entry]) =>
    Array.from({ length: REPLICATED.includes(name) ? replicas : 1 }, (_, i) => {
      const port = portOf(name, env) + REPLICA_PORT_STEP * i;
      const origin = `http://${hostOf(env)}:${port}`;
      return {
        name: replicaName(name, i + 1),
        command: [options.bun, entry],
        port,
        healthUrl: `${origin}/health`,
        url: origin,
        // Only the control plane gets the token (in its environment, never on a command line `ps` shows).
        ...(name === 'control' && options.controlToken ? { env: { MAILROOM_CONTROL_TOKEN: options.controlToken } } : {}),
        // A replica past the first listens on a port of its own.
        ...(i > 0 ? { env: { [`MAILROOM_PORT_${name.toUpperCase()}`]: String(port) } } : {}),
      };
    }),
  );
  if (options.dev) {
    specs.push({
      name: 'panel',
      // `bun x --bun` runs Vite on Bun rather than on Node; its port and host come from panel/vite.config.ts.
      command: [options.bun, 'x', '--bun', 'vite', '--config', 'panel/vite.config.ts'],
      port: portOf('panel', env),
      healthUrl: `${originOf('panel', env)}/`,
      url: `${originOf('panel', env)}/`,
    });
  }
  return specs;
}

/**
 * Where a person opens the panel: Vite in dev mode, the control plane serving `panel/dist` otherwise; with the
 * control token in the query (the panel takes it from there once and keeps it for the tab).
 *
 * @example
 * panelUrlOf(true); // 'http://127.0.0.1:5173/'
 * panelUrlOf(false, process.env, 'k3y'); // 'http://127.0.0.1:3100/?token=k3y'
 */
export function panelUrlOf(dev: boolean, env: Env = process.env, token?: string): string {
  const url = `${originOf(dev ? 'panel' : 'control', env)}/`;
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}
