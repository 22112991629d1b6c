/**
 * What must hold before the supervisor starts anything: a recent enough Bun, a Redis (a `redis-server` binary to
 * start, or a `REDIS_URL` that answers), and every port free. Each failed check is one line a person can act on;
 * all are checked, so one run shows every problem.
 */
import { createServer } from 'node:net';
import { findPortHolder } from './port-holder.ts';
import { redactedUrl } from '../redis/redacted-url.ts';
import { pingRedis } from './redis-ping.ts';

/** `1.2.3` → `[1, 2, 3]`; anything after `-` or `+` is ignored. */
function parseVersion(version: string): number[] {
  return version
    .split(/[-+]/)[0]!
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/**
 * Whether `actual` ≥ `minimum`, comparing numerically part by part.
 *
 * @example
 * versionAtLeast('1.10.0', '1.2'); // true
 */
export function versionAtLeast(actual: string, minimum: string): boolean {
  const a = parseVersion(actual);
  const m = parseVersion(minimum);
  for (let i = 0; i < Math.max(a.length, m.length); i++) {
    const x = a[i] ?? 0;
    const y = m[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * The problem with this Bun, if any.
 *
 * @example
 * checkBun('1.1.30', '1.2'); // 'Bun 1.1.30 is too old: Mailroom needs Bun ≥ 1.2 (npm install -g bun)'
 */
export function checkBun(actual: string, minimum: string): string | undefined {
  return versionAtLeast(actual, minimum)
    ? undefined
    : `Bun ${actual} is too old: Mailroom needs Bun ≥ ${minimum} (npm install -g bun)`;
}

/**
 * The problem with Redis, if any: with `redisUrl` it must answer PING; without, `redis-server` ≥ 7 must be on PATH.
 *
 * @example
 * await checkRedis({ redisUrl: undefined, redisServer: Bun.which('redis-server') });
 */
export async function checkRedis(options: {
  redisUrl: string | undefined;
  redisServer: string | null;
  minimumVersion?: string;
}): Promise<string | undefined> {
  if (options.redisUrl) {
    try {
      await pingRedis(options.redisUrl, 2000);
      return undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return `REDIS_URL=${redactedUrl(options.redisUrl)} does not answer PING (${reason}): start that Redis or unset REDIS_URL to use a private one`;
    }
  }
  if (!options.redisServer) {
    return 'redis-server is not on PATH and REDIS_URL is not set: install Redis ≥ 7 (e.g. apt-get install redis-server) or set REDIS_URL';
  }
  const minimum = options.minimumVersion ?? '7';
  const out = Bun.spawnSync([options.redisServer, '--version'], { stdout: 'pipe', stderr: 'ignore' });
  const version = out.stdout.toString().match(/v=(\d+\.\d+\.\d+)/)?.[1];
  if (version && !versionAtLeast(version, minimum)) {
    return `redis-server ${version} (${options.redisServer}) is too old: Mailroom needs Redis ≥ ${minimum}`;
  }
  return undefined;
}

/**
 * Whether nothing listens on `host:port` (by trying to listen there, exclusively, for an instant).
 *
 * @example
 * await isPortFree('127.0.0.1', 3001); // false while `bun run dev` runs
 */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * One line per port that is taken, naming the port, what it was for and who holds it.
 *
 * @example
 * await checkPorts('127.0.0.1', [{ name: 'order', port: 3001, envVar: 'MAILROOM_PORT_ORDER' }]);
 * // ['port 3001 (order) is in use by pid 4242 (node server.js): stop it, or set MAILROOM_PORT_ORDER or MAILROOM_PORT_OFFSET']
 */
export async function checkPorts(
  host: string,
  ports: Array<{ name: string; port: number; envVar?: string }>,
): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const { name, port, envVar } of ports) {
    const other = seen.get(port);
    if (other !== undefined) {
      problems.push(`port ${port} is configured for both ${other} and ${name}: give each its own port`);
      continue;
    }
    seen.set(port, name);
    if (await isPortFree(host, port)) continue;
    const holder = findPortHolder(port);
    const who = holder ? `pid ${holder.pid} (${holder.command})` : 'another process (could not tell which)';
    const hint = envVar ? `set ${envVar} or MAILROOM_PORT_OFFSET` : 'set MAILROOM_PORT_OFFSET';
    problems.push(`port ${port} (${name}) is in use by ${who}: stop it, or ${hint}`);
  }
  return problems;
}
