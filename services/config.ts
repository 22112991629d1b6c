/**
 * The shop's process names, default ports and the environment variables that override them: the one place the
 * supervisor, the services, the tests and the README's port table agree on. The runtime knows none of this; the
 * composition root (`services/system.ts`, each process's `main.ts`) hands it what it needs.
 */
import { hostOf, portFromEnv } from '../runtime/config.ts';

export const SERVICE_NAMES = ['order', 'inventory', 'payment', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type ProcessName = ServiceName | 'gateway' | 'provider' | 'notifications' | 'control' | 'panel';

/**
 * Partitions of each shop service when it first starts (`MAILROOM_PARTITIONS` overrides; a service keeps the count it
 * was first registered with). Two, not the runtime's eight: on the 2-core machine the shop is measured on, fewer
 * partitions put more messages into each read and commit — `bun run bench saga` peaked at 157–168 sagas/s with 2
 * against 118–126 with 8, at 10 against 14 ms of CPU per saga (docs/benchmarks.md#partitions) — and two nodes of a
 * service still share its work, one partition each.
 */
export const SHOP_PARTITIONS = 2;

/** Default ports; `MAILROOM_PORT_<NAME>` overrides one, `MAILROOM_PORT_OFFSET` shifts them all (tests use it). */
export const DEFAULT_PORTS: Record<ProcessName | 'redis', number> = {
  gateway: 3000,
  order: 3001,
  inventory: 3002,
  payment: 3003,
  shipping: 3004,
  provider: 3005,
  notifications: 3006,
  control: 3100,
  panel: 5173,
  redis: 6380,
};

type Env = Record<string, string | undefined>;

/** The port a process listens on, after `MAILROOM_PORT_<NAME>` and `MAILROOM_PORT_OFFSET`. */
export function portOf(name: ProcessName | 'redis', env: Env = process.env): number {
  return portFromEnv(name, DEFAULT_PORTS[name], env);
}

/**
 * The origins whose pages may change things in every process: the panel (Vite in dev) and the control plane that
 * serves it in `bun run start`, each as `hostOf()` and, on loopback, as `localhost` too.
 *
 * @example
 * trustedOrigins({}); // ['http://127.0.0.1:5173', 'http://localhost:5173', 'http://127.0.0.1:3100', 'http://localhost:3100']
 */
export function trustedOrigins(env: Env = process.env): string[] {
  const host = hostOf(env);
  const hosts = host === '127.0.0.1' || host === 'localhost' ? ['127.0.0.1', 'localhost'] : [host];
  return (['panel', 'control'] as const).flatMap((name) => hosts.map((h) => `http://${h}:${portOf(name, env)}`));
}
