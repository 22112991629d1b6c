/**
 * Telling when the system has recovered from a blow: a process is healthy again (the supervisor restarted it and
 * its `/health` answers 200, which includes its Redis connection), and every partition of every actor service is
 * leased by a node that is alive — so every mailbox has a consumer again. Read from the leases in Redis and the
 * supervisor's pids, on a connection of the run's own that rides out a Redis restart.
 */
import { createClient } from 'redis';
import { SERVICE_NAMES } from '../../services/config.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import type { ChaosSystem } from './system.ts';

const monitorClient = (url: string) =>
  createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 500) } });
export type Monitor = ReturnType<typeof monitorClient>;

/**
 * A Redis client that reconnects forever and never queues commands while Redis is down (they fail at once).
 *
 * @example
 * const redis = await openMonitor(system.redisUrl);
 * await redis.ping();
 */
export async function openMonitor(url: string): Promise<Monitor> {
  const client = monitorClient(url);
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The pid in a lease value `<service>-<pid>-<random>|<token>`. */
function holderPid(lease: string | null): number | undefined {
  if (!lease) return undefined;
  const pid = Number(lease.split('|')[0]!.split('-')[1]);
  return Number.isInteger(pid) ? pid : undefined;
}

/** Partitions of `service` not leased by a live node of it (empty when all are owned). */
export async function unownedPartitions(system: ChaosSystem, redis: Monitor, service: string, partitions = 8): Promise<number[]> {
  const live = new Set(system.nodesOf[service]!.map((name) => system.pid(name)).filter((pid) => pid !== undefined));
  const leases = (await redis.mGet([...Array(partitions).keys()].map((p) => partitionKeys(system.prefix, service, p).lease))) as (string | null)[];
  return leases.flatMap((lease, p) => (live.has(holderPid(lease)!) ? [] : [p]));
}

/** Partitions of each service held by the node with `pid`. */
export async function partitionsHeldBy(system: ChaosSystem, redis: Monitor, service: string, pid: number, partitions = 8): Promise<number[]> {
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
