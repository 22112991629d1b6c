/**
 * What every process reads from its environment, whatever it serves: the interface to bind, the key prefix, the
 * Redis URL, and a port after its `MAILROOM_PORT_<NAME>` / `MAILROOM_PORT_OFFSET` overrides. Which processes exist
 * and their default ports are the application's (the shop's live in `services/config.ts`).
 */

import { clusterUrl, parseClusterNodes } from './redis/cluster-url.ts';

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

/**
 * A process's port: `MAILROOM_PORT_<NAME>` if set, else its default shifted by `MAILROOM_PORT_OFFSET`.
 *
 * @example
 * portFromEnv('order', 3001, { MAILROOM_PORT_OFFSET: '100' }); // 3101
 */
export function portFromEnv(name: string, defaultPort: number, env: Env = process.env): number {
  const own = intFromEnv(env, `MAILROOM_PORT_${name.toUpperCase()}`);
  if (own !== undefined) return own;
  return defaultPort + (intFromEnv(env, 'MAILROOM_PORT_OFFSET') ?? 0);
}

/** The interface every server binds to: 127.0.0.1 unless `MAILROOM_HOST` says otherwise. */
export function hostOf(env: Env = process.env): string {
  return env.MAILROOM_HOST || '127.0.0.1';
}

/** Prefix of every Redis key Mailroom writes (`MAILROOM_PREFIX`, default `mr`); tests use their own. */
export function keyPrefixOf(env: Env = process.env): string {
  return env.MAILROOM_PREFIX || 'mr';
}

/**
 * A service's partition count for a node not told one (`MAILROOM_PARTITIONS`, 1–1024), or undefined when unset (the
 * runtime's default, 8). The first node of a service records it; every later node must start with the same count.
 * Fewer partitions batch more messages into each read and commit (docs/benchmarks.md#partitions), more let more
 * nodes share a service.
 *
 * @example
 * partitionsOf({ MAILROOM_PARTITIONS: '2' }); // 2
 */
export function partitionsOf(env: Env = process.env): number | undefined {
  const raw = env.MAILROOM_PARTITIONS;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1024) throw new Error(`MAILROOM_PARTITIONS=${raw} is not a partition count: use a whole number from 1 to 1024`);
  return value;
}

/**
 * The client of a node's own connections (mailbox reads, commits, relays, doorbells): Bun's built-in `RedisClient`
 * unless `MAILROOM_REDIS_CLIENT=node-redis` (see docs/architecture.md#redis-client). Anything else is an error.
 *
 * @example
 * redisClientOf({}); // 'bun'
 */
export function redisClientOf(env: Env = process.env): 'bun' | 'node-redis' {
  const raw = env.MAILROOM_REDIS_CLIENT;
  if (raw === undefined || raw === '' || raw === 'bun') return 'bun';
  if (raw === 'node-redis') return 'node-redis';
  throw new Error(`MAILROOM_REDIS_CLIENT=${raw} is not a client: use bun (the default) or node-redis`);
}

/**
 * How a node's committed messages reach their mailboxes when its options do not say: `MAILROOM_DELIVERY=commit`
 * (the commit script appends them) or `relay` (through the partition's outbox); unset, the node picks (commit on one
 * Redis, relay on a cluster or with commit replicas). Anything else is an error.
 *
 * @example
 * deliveryOf({ MAILROOM_DELIVERY: 'relay' }); // 'relay'
 */
export function deliveryOf(env: Env = process.env): 'commit' | 'relay' | undefined {
  const raw = env.MAILROOM_DELIVERY;
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'commit' || raw === 'relay') return raw;
  throw new Error(`MAILROOM_DELIVERY=${raw} is not a delivery: use commit (one Redis, the default there) or relay`);
}

/**
 * Whether a node applies a message one of its turns sent to an actor of the same partition in the same batch
 * (`MAILROOM_LOCAL_DELIVERY=1`, the default) rather than through the mailbox (`0`): see docs/architecture.md#local-delivery.
 * Anything else is an error.
 *
 * @example
 * localDeliveryOf({}); // true
 * localDeliveryOf({ MAILROOM_LOCAL_DELIVERY: '0' }); // false
 */
export function localDeliveryOf(env: Env = process.env): boolean {
  const raw = env.MAILROOM_LOCAL_DELIVERY ?? '';
  if (raw !== '' && raw !== '0' && raw !== '1') throw new Error(`MAILROOM_LOCAL_DELIVERY=${raw} must be 1 (a message to an actor of the same partition is applied in the batch that sent it) or 0 (every message goes through the mailbox)`);
  return raw !== '0';
}

/**
 * The Redis the runtime talks to when it is not told: the cluster of `MAILROOM_REDIS_CLUSTER` (as a
 * `redis-cluster://` address, see `redis/cluster-url.ts`), else `REDIS_URL`, else `fallback` (a local Redis on 6379).
 *
 * @example
 * redisUrlOf({}); // 'redis://127.0.0.1:6379'
 * redisUrlOf({ MAILROOM_REDIS_CLUSTER: '127.0.0.1:7001,127.0.0.1:7002' }); // 'redis-cluster://127.0.0.1:7001,127.0.0.1:7002'
 */
export function redisUrlOf(env: Env = process.env, fallback = 'redis://127.0.0.1:6379'): string {
  const cluster = redisClusterOf(env);
  if (cluster) return clusterUrl(cluster);
  return env.REDIS_URL || fallback;
}

/**
 * The seed nodes of `MAILROOM_REDIS_CLUSTER` (`host:port,…`; any few nodes of the cluster, it discovers the rest),
 * or undefined when it is not set. A malformed list is an error, not a silent fall-back to single Redis.
 *
 * @example
 * redisClusterOf({ MAILROOM_REDIS_CLUSTER: '127.0.0.1:7001, 127.0.0.1:7002' }); // ['127.0.0.1:7001', '127.0.0.1:7002']
 */
export function redisClusterOf(env: Env = process.env): string[] | undefined {
  const raw = env.MAILROOM_REDIS_CLUSTER?.trim();
  if (!raw) return undefined;
  return parseClusterNodes(raw, 'MAILROOM_REDIS_CLUSTER');
}

/**
 * Whether `host` is this machine's own loopback (`127.x.y.z`, `::1`, `localhost`): nothing from another machine
 * reaches a server bound there.
 *
 * @example
 * isLoopbackHost('127.0.0.2'); // true
 * isLoopbackHost('0.0.0.0'); // false
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * Whether this process is exposed: bound to an address other machines can reach (`MAILROOM_HOST` not loopback), or
 * told so by `MAILROOM_EXPOSED=1` (tests run exposed mode on loopback). Exposed, every request needs a credential;
 * `MAILROOM_EXPOSED=0` cannot take that away from a process bound to a public address.
 *
 * @example
 * exposedOf({}); // false
 * exposedOf({ MAILROOM_HOST: '10.0.0.5' }); // true
 * exposedOf({ MAILROOM_EXPOSED: '1' }); // true
 */
export function exposedOf(env: Env = process.env): boolean {
  const raw = env.MAILROOM_EXPOSED ?? '';
  if (raw !== '' && raw !== '0' && raw !== '1') throw new Error(`MAILROOM_EXPOSED=${raw} must be 1 (every request needs a credential) or 0 (only when bound to loopback)`);
  return raw === '1' || !isLoopbackHost(hostOf(env));
}
