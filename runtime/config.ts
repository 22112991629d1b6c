/**
 * Process names, default ports and the environment variables that override them: the one place the supervisor,
 * the services, the tests and the README's port table agree on.
 */

export const SERVICE_NAMES = ['order', 'inventory', 'payment', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type ProcessName = ServiceName | 'gateway' | 'provider' | 'control' | 'panel';

/** Default ports; `MAILROOM_PORT_<NAME>` overrides one, `MAILROOM_PORT_OFFSET` shifts them all (tests use it). */
export const DEFAULT_PORTS: Record<ProcessName | 'redis', number> = {
  gateway: 3000,
  order: 3001,
  inventory: 3002,
  payment: 3003,
  shipping: 3004,
  provider: 3005,
  control: 3100,
  panel: 5173,
  redis: 6380,
};

type Env = Record<string, string | undefined>;

function intFromEnv(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${name}=${raw} is not a port number (0–65535)`);
  }
  return value;
}

/** The port a process listens on, after `MAILROOM_PORT_<NAME>` and `MAILROOM_PORT_OFFSET`. */
export function portOf(name: ProcessName | 'redis', env: Env = process.env): number {
  const own = intFromEnv(env, `MAILROOM_PORT_${name.toUpperCase()}`);
  if (own !== undefined) return own;
  return DEFAULT_PORTS[name] + (intFromEnv(env, 'MAILROOM_PORT_OFFSET') ?? 0);
}

/** The interface every server binds to: 127.0.0.1 unless `MAILROOM_HOST` says otherwise. */
export function hostOf(env: Env = process.env): string {
  return env.MAILROOM_HOST || '127.0.0.1';
}

/** Prefix of every Redis key Mailroom writes (`MAILROOM_PREFIX`, default `mr`); tests use their own. */
export function keyPrefixOf(env: Env = process.env): string {
  return env.MAILROOM_PREFIX || 'mr';
}
