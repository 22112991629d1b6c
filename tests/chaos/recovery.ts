/**
 * Telling when the system has recovered from a blow: a process is healthy again (the supervisor restarted it and
 * its `/health` answers 200, which includes its Redis connection), and every partition of every actor service is
 * leased by a node that is alive — so every mailbox has a consumer again. Read from the leases in Redis and the
 * supervisor's pids, on a connection of the run's own that rides out a Redis restart.
 */
import { createClient, createCluster } from 'redis';
import { SERVICE_NAMES } from '../../services/config.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { partitionCount } from '../../runtime/event-log/partitions.ts';
import { clusterOptions } from '../../runtime/redis/cluster-link.ts';
import { isClusterUrl } from '../../runtime/redis/cluster-url.ts';
import { firstKeyOf } from '../../runtime/redis/command-keys.ts';
import type { ChaosSystem } from './system.ts';

/** The few commands the run reads the system with, on one Redis or a cluster alike. */
export type Monitor = {
  sendCommand(args: string[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /** One GET per key on a cluster (the keys are in several slots). */
  mGet(keys: string[]): Promise<(string | null)[]>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hLen(key: string): Promise<number>;
  xLen(key: string): Promise<number>;
  zCard(key: string): Promise<number>;
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<string[]>;
  ping(): Promise<unknown>;
  configGet(name: string): Promise<Record<string, string>>;
  quit(): Promise<unknown>;
  destroy(): void;
};

/**
 * A Redis client that reconnects forever and never queues commands while Redis is down (they fail at once); on a
 * `redis-cluster://` address, a cluster client that routes each command by its key and follows a failover.
 *
 * @example
 * const redis = await openMonitor(system.redisUrl);
 * await redis.ping();
 */
export async function openMonitor(url: string): Promise<Monitor> {
  if (isClusterUrl(url)) return openClusterMonitor(url);
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 500) } });
  client.on('error', () => {});
  await client.connect();
  return {
    sendCommand: (args) => client.sendCommand(args),
    get: (key) => client.get(key) as Promise<string | null>,
    mGet: (keys) => client.mGet(keys) as Promise<(string | null)[]>,
    hGetAll: (key) => client.hGetAll(key) as Promise<Record<string, string>>,
    hLen: (key) => client.hLen(key),
    xLen: (key) => client.xLen(key),
    zCard: (key) => client.zCard(key),
    zRangeByScore: (key, min, max) => client.zRangeByScore(key, min, max) as Promise<string[]>,
    ping: () => client.ping(),
    configGet: (name) => client.configGet(name) as Promise<Record<string, string>>,
    quit: () => client.quit(),
    destroy: () => client.destroy(),
  };
}

async function openClusterMonitor(url: string): Promise<Monitor> {
  const cluster = createCluster(clusterOptions(url));
  cluster.on('error', () => {});
  await cluster.connect();
  const send = (args: string[]) => cluster.sendCommand(firstKeyOf(args), false, args) as Promise<unknown>;
  const pairs = (flat: unknown) => {
    if (!Array.isArray(flat)) return (flat ?? {}) as Record<string, string>;
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
    return out;
  };
  const get = (key: string) => send(['GET', key]) as Promise<string | null>;
  return {
    sendCommand: send,
    get,
    mGet: (keys) => Promise.all(keys.map(get)),
    hGetAll: async (key) => pairs(await send(['HGETALL', key])),
    hLen: async (key) => Number(await send(['HLEN', key])),
    xLen: async (key) => Number(await send(['XLEN', key])),
    zCard: async (key) => Number(await send(['ZCARD', key])),
    zRangeByScore: async (key, min, max) => (await send(['ZRANGEBYSCORE', key, String(min), String(max)])) as string[],
    ping: () => send(['PING']),
    configGet: async (name) => pairs(await send(['CONFIG', 'GET', name])),
    quit: () => cluster.close(),
    destroy: () => cluster.destroy(),
  };
}

/** The pid in a lease value `<service>-<pid>-<random>|<token>`. */
function holderPid(lease: string | null): number | undefined {
  if (!lease) return undefined;
  const pid = Number(lease.split('|')[0]!.split('-')[1]);
  return Number.isInteger(pid) ? pid : undefined;
}

/** The partition count `service` was registered with (the shop's default, or `MAILROOM_PARTITIONS`). */
const partitionsOf = (system: ChaosSystem, redis: Monitor, service: string) => partitionCount({ call: (args) => redis.sendCommand(args.map(String)) }, system.prefix, service);

/** Partitions of `service` not leased by a live node of it (empty when all are owned). */
export async function unownedPartitions(system: ChaosSystem, redis: Monitor, service: string): Promise<number[]> {
  const partitions = await partitionsOf(system, redis, service);
  const live = new Set(system.nodesOf[service]!.map((name) => system.pid(name)).filter((pid) => pid !== undefined));
  const leases = (await redis.mGet([...Array(partitions).keys()].map((p) => partitionKeys(system.prefix, service, p).lease))) as (string | null)[];
  return leases.flatMap((lease, p) => (live.has(holderPid(lease)!) ? [] : [p]));
}

/** Partitions of each service held by the node with `pid`. */
export async function partitionsHeldBy(system: ChaosSystem, redis: Monitor, service: string, pid: number): Promise<number[]> {
  const partitions = await partitionsOf(system, redis, service);
  const leases = (await redis.mGet([...Array(partitions).keys()].map((p) => partitionKeys(system.prefix, service, p).lease))) as (string | null)[];
  return leases.flatMap((lease, p) => (holderPid(lease) === pid ? [p] : []));
}

/** Nodes of `service` (by process name) with no heartbeat in Redis after `since`. */
async function silentNodes(system: ChaosSystem, redis: Monitor, service: string, since: number): Promise<string[]> {
  const beats = await redis.zRangeByScore(globalKeys(system.prefix).nodes(service), since, '+inf');
  return system.nodesOf[service]!.filter((name) => {
    const pid = system.pid(name);
    return pid === undefined || !beats.some((node) => node.startsWith(`${service}-${pid}-`));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Whether a process runs with another pid than `killedPid` and its /health answers 200. */
async function healthyAgain(system: ChaosSystem, name: string, killedPid: number | undefined): Promise<boolean> {
  const child = system.supervisor.child(name);
  if (!child || child.status !== 'healthy' || child.pid === undefined || child.pid === killedPid) return false;
  const info = system.supervisor.processes().find((p) => p.name === name);
  return info ? answers(`${info.url}/health`) : false;
}

/** The actor service a process is a node of (`inventory-2` → `inventory`), if it is one. */
export function serviceOf(system: ChaosSystem, name: string): string | undefined {
  return Object.keys(system.nodesOf).find((service) => system.nodesOf[service]!.includes(name));
}

/**
 * Waits until the process killed with pid `killedPid` is healthy again and its service's partitions are all owned by
 * live nodes; resolves with the milliseconds since `since`, or undefined after `timeoutMs`.
 */
export async function waitRecovered(system: ChaosSystem, redis: Monitor, name: string, killedPid: number | undefined, since: number, timeoutMs = 60_000): Promise<number | undefined> {
  const service = serviceOf(system, name);
  while (Date.now() - since < timeoutMs) {
    try {
      if ((await healthyAgain(system, name, killedPid)) && (!service || (await unownedPartitions(system, redis, service)).length === 0)) return Date.now() - since;
    } catch {
      // Redis is not answering yet
    }
    await Bun.sleep(50);
  }
  return undefined;
}

/**
 * Waits until everything is back after a Redis restart: Redis answers, every process's /health is 200 again (so its
 * own connection came back) and every partition of every service is owned by a live node. Resolves with the ms since
 * `since` and the processes that were still not healthy at the deadline (empty when all recovered).
 */
export async function waitAllRecovered(system: ChaosSystem, redis: Monitor, since: number, timeoutMs = 60_000): Promise<{ ms: number | undefined; stragglers: string[] }> {
  let stragglers: string[] = [];
  while (Date.now() - since < timeoutMs) {
    try {
      await redis.ping();
      const procs = system.supervisor.processes().filter((p) => p.name !== 'redis');
      const health = await Promise.all(procs.map((p) => answers(`${p.url}/health`)));
      stragglers = procs.filter((_, i) => !health[i]).map((p) => p.name);
      const unowned = await Promise.all(SERVICE_NAMES.map((s) => unownedPartitions(system, redis, s)));
      const orphans = SERVICE_NAMES.filter((_, i) => unowned[i]!.length > 0).map((s) => `${s} partitions ${unowned[SERVICE_NAMES.indexOf(s)]!.join(',')}`);
      // Leases restored from the AOF may still look alive: a node has recovered once it beat its heart again.
      const silent = (await Promise.all(SERVICE_NAMES.map((s) => silentNodes(system, redis, s, since)))).flat();
      if (stragglers.length === 0 && orphans.length === 0 && silent.length === 0) return { ms: Date.now() - since, stragglers: [] };
      stragglers = [...stragglers, ...orphans, ...silent.map((n) => `${n} (no heartbeat since)`)];
    } catch {
      stragglers = ['redis'];
    }
    await Bun.sleep(100);
  }
  return { ms: undefined, stragglers };
}
