/**
 * The Redis the supervisor starts for itself when no `REDIS_URL` is given: a `redis-server` child bound to
 * 127.0.0.1 on its own port, append-only file on and RDB snapshots off, its data in a directory of the project
 * (`.data/redis`), so what the system stored survives a restart of `bun run dev`.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export type PrivateRedisOptions = {
  /** Path of the `redis-server` binary. */
  server: string;
  port: number;
  /** Where the AOF lives; created if missing. */
  dataDir: string;
};

/** The URL children use to reach it. */
export function privateRedisUrl(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

/**
 * The argv of the private redis-server (and creates its data directory).
 *
 * @example
 * privateRedisCommand({ server: '/usr/bin/redis-server', port: 6380, dataDir: '.data/redis' });
 * // ['/usr/bin/redis-server', '--port', '6380', '--bind', '127.0.0.1', '--appendonly', 'yes', …]
 */
export function privateRedisCommand(options: PrivateRedisOptions): string[] {
  const dir = resolve(options.dataDir);
  mkdirSync(dir, { recursive: true });
  return [
    options.server,
    '--port', String(options.port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--appendonly', 'yes',
    '--dir', dir,
    // No RDB snapshots: the AOF is the persistence; an empty `save` turns snapshots off.
    '--save', '',
    // In the foreground, as our child, so stopping the supervisor stops it.
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
}
