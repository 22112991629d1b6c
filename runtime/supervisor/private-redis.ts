/**
 * The Redis the supervisor starts for itself when no `REDIS_URL` is given: a `redis-server` child bound to
 * 127.0.0.1 on its own port, append-only file on and RDB snapshots off, its data in a directory of the project
 * (`.data/redis`), so what the system stored survives a restart of `bun run dev`. A Redis left running by a
 * supervisor that was killed outright is recognised by its data directory and stopped on the next start. With
 * `auth` (an exposed system) it wants a password: the default user is switched off and one ACL user may do
 * everything, declared in a config file of mode 600 in the data directory (never on the command line `ps` shows),
 * and the URL the children get carries the user and password.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import '../redis/tracing-channel.ts';
import { createClient } from 'redis';
import { isPortFree } from './prerequisites.ts';

export type PrivateRedisOptions = {
  /** Path of the `redis-server` binary. */
  server: string;
  port: number;
  /** Where the AOF lives; created if missing. */
  dataDir: string;
  /** An ACL user and its password; without, the Redis wants none (loopback, one user's machine). */
  auth?: RedisAuth;
};

/** The one ACL user a private Redis lets in (the password must be URL-safe: it travels inside the Redis URL). */
export type RedisAuth = { user: string; password: string };

const URL_SAFE = /^[A-Za-z0-9_.~-]+$/;

/**
 * The URL children use to reach it.
 *
 * @example
 * privateRedisUrl(6380); // 'redis://127.0.0.1:6380'
 * privateRedisUrl(6380, { user: 'mailroom', password: 's3cret' }); // 'redis://mailroom:s3cret@127.0.0.1:6380'
 */
export function privateRedisUrl(port: number, auth?: RedisAuth): string {
  return auth ? `redis://${auth.user}:${auth.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
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
    // A config file first (redis-server reads it, then the options after it), holding the ACL users.
    ...(options.auth ? [aclConfig(dir, options.auth)] : []),
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

/** Writes `<dir>/acl.conf` (mode 600): the default user off, `auth.user` allowed every key, channel and command. */
function aclConfig(dir: string, auth: RedisAuth): string {
  if (!URL_SAFE.test(auth.user) || !URL_SAFE.test(auth.password)) throw new Error('a private Redis user and password must be URL-safe (A–Z, a–z, 0–9, _ . ~ -)');
  const file = join(dir, 'acl.conf');
  writeFileSync(file, `# Written by the Mailroom supervisor on every start: who may use this Redis.\nuser default off\nuser ${auth.user} on >${auth.password} ~* &* +@all\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
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
export async function reclaimLeftoverRedis(options: { port: number; dataDir: string; auth?: RedisAuth }): Promise<number | undefined> {
  // An earlier run that was not exposed left a Redis without a password: ask as this run would, then without.
  const reclaimed = await reclaimAs(privateRedisUrl(options.port, options.auth), options);
  return reclaimed ?? (options.auth ? reclaimAs(privateRedisUrl(options.port), options) : undefined);
}

async function reclaimAs(url: string, options: { port: number; dataDir: string }): Promise<number | undefined> {
  const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
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
