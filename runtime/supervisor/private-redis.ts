/**
 * The Redis the supervisor starts for itself when no `REDIS_URL` is given: a `redis-server` child bound to
 * 127.0.0.1 on its own port, append-only file on and RDB snapshots off, its data in a directory of the project
 * (`.data/redis`), so what the system stored survives a restart of `bun run dev`. A Redis left running by a
 * supervisor that was killed outright is recognised by its data directory and stopped on the next start.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient } from 'redis';
import { isPortFree } from './prerequisites.ts';

export type PrivateRedisOptions = {
  /** Path of the `redis-server` binary. */
  server: string;
  port: number;
  /** Where the AOF lives; created if missing. */
  dataDir: string;
};

/**
 * The URL children use to reach it.
 *
 * @example
 * privateRedisUrl(6380); // 'redis://127.0.0.1:6380'
 */
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

/**
 * If a Redis from an earlier run still holds the port — one whose data directory is ours, left behind when a
 * supervisor was killed with SIGKILL and could not stop it — shuts it down and returns its pid. Any other process on
 * the port is left alone (the port check then reports it).
 *
 * @example
 * const pid = await reclaimLeftoverRedis({ port: 6380, dataDir: '.data/redis' });
 * if (pid) console.log(`stopped a private Redis left by an earlier run (pid ${pid})`);
 */
export async function reclaimLeftoverRedis(options: { port: number; dataDir: string }): Promise<number | undefined> {
  const client = createClient({ url: privateRedisUrl(options.port), socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    const dir = (await client.configGet('dir')).dir;
    if (dir !== resolve(options.dataDir)) return undefined;
    const pid = Number((await client.info('server')).match(/process_id:(\d+)/)?.[1]);
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    process.kill(pid, 'SIGTERM');
    // Done when the port is free (an exited Redis may linger as a zombie until init reaps it).
    for (let waited = 0; waited < 3000; waited += 50) {
      if (await isPortFree('127.0.0.1', options.port)) return pid;
      await Bun.sleep(50);
    }
    process.kill(pid, 'SIGKILL');
    return pid;
  } catch {
    return undefined; // nothing there, not a Redis, or not ours to ask
  } finally {
    client.destroy();
  }
}
