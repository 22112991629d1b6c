/**
 * Mailroom's processes, in one list: what `bun run dev` starts (through the supervisor) and what the control plane
 * reports. Every address comes from `services/config.ts`, so env overrides move them all consistently.
 */
import { hostOf } from '../runtime/config.ts';
import { portOf, type ProcessName } from './config.ts';
import type { ProcessSpec } from '../runtime/supervisor/index.ts';

type Env = Record<string, string | undefined>;

/** Bun-run processes, in start and table order: name → entry file. */
export const BUN_PROCESSES: ReadonlyArray<readonly [ProcessName, string]> = [
  ['order', 'services/order/main.ts'],
  ['inventory', 'services/inventory/main.ts'],
  ['payment', 'services/payment/main.ts'],
  ['shipping', 'services/shipping/main.ts'],
  ['provider', 'services/payment-provider/main.ts'],
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

/**
 * The processes to supervise. With `dev`, the panel's Vite dev server is one of them.
 *
 * @example
 * mailroomProcesses({ dev: true, bun: process.execPath }).map((p) => p.name); // ['order', …, 'control', 'panel']
 */
export function mailroomProcesses(options: { dev: boolean; bun: string; env?: Env; controlToken?: string }): ProcessSpec[] {
  const env = options.env ?? process.env;
  const specs: ProcessSpec[] = BUN_PROCESSES.map(([name, entry]) => ({
    name,
    command: [options.bun, entry],
    port: portOf(name, env),
    healthUrl: `${originOf(name, env)}/health`,
    url: originOf(name, env),
    // Only the control plane gets the token (in its environment, never on a command line `ps` shows).
    ...(name === 'control' && options.controlToken ? { env: { MAILROOM_CONTROL_TOKEN: options.controlToken } } : {}),
  }));
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
