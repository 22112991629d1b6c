/**
 * `bun run chaos --cluster`: a Redis master SIGKILLed mid-run. Its replica is cut off first for `cutOffMs` (it
 * cannot re-authenticate to its master, so it falls behind as a replica across a network partition would), then
 * the master dies: every write it took meanwhile exists nowhere else. The cluster promotes the stale replica; a
 * while later the old master starts again and rejoins as a replica. Around the kill the record keeps what a
 * failover can lose: the actor records whose version on the dead master was newer than on the replica that took
 * its place (turns rolled back), read from the replica while it is still frozen, before it takes any write.
 */
import { createClient } from 'redis';
import { SERVICE_NAMES } from '../../services/config.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { clusterInfo, replicationInfo } from '../../runtime/supervisor/local-cluster.ts';
import type { ChaosSystem } from './system.ts';

export type MasterKillRecord = {
  at: number;
  port: number;
  replicaPort: number;
  cutOffMs: number;
  /** Kill → the replica is master and every live node reports `cluster_state:ok`. */
  failoverMs?: number;
  /** Restart of the old master → it is a replica in sync again. */
  rejoinedMs?: number;
  /** Actor records newer on the dead master than on its replica: `service/type/id v7 → v5`. */
  rolledBack: string[];
  /** Actor records on the dead master's partitions, sampled just before the kill. */
  sampled: number;
};

const connect = (port: number) =>
  createClient({ url: `redis://127.0.0.1:${port}`, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
type NodeClient = ReturnType<typeof connect>;

async function nodeClient(port: number): Promise<NodeClient> {
  const client = connect(port);
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The replica of the master on `port` (from that master's `CLUSTER NODES`). */
async function replicaOf(client: NodeClient): Promise<number> {
  const lines = String(await client.sendCommand(['CLUSTER', 'NODES'])).trim().split('\n').map((l) => l.split(' '));
  const me = lines.find((f) => f[2]!.includes('myself'))!;
  const replica = lines.find((f) => f[3] === me[0] && !f[2]!.includes('fail'));
  if (!replica) throw new Error('the master has no live replica');
  return Number(replica[1]!.split('@')[0]!.split(':')[1]);
}

/** Version of every actor record of the partitions `client`'s node serves (keys it does not serve answer MOVED). */
async function versions(client: NodeClient, prefix: string, readonly = false): Promise<Map<string, number>> {
  if (readonly) await client.sendCommand(['READONLY']);
  const out = new Map<string, number>();
  await Promise.all(
    SERVICE_NAMES.flatMap((service) =>
      [...Array(8).keys()].map(async (p) => {
        const k = partitionKeys(prefix, service, p);
        let index: string[];
        try {
          index = (await client.sendCommand(['HKEYS', k.index])) as string[];
        } catch {
          return; // MOVED: another master's partition
        }
        await Promise.all(
          index.map(async (field) => {
            const slash = field.indexOf('/');
            const v = await client.sendCommand(['HGET', k.actor(field.slice(0, slash), field.slice(slash + 1)), 'v']).catch(() => null);
            out.set(`${service}/${field}`, Number(v ?? 0));
          }),
        );
      }),
    ),
  );
  return out;
}

/**
 * Kills the `pick`-th master (0–1 picks among the masters now) as described above; resolves once the old master is
 * back as a replica in sync (or after a minute). `log` tells the run's story.
 *
 * @example
 * const record = await killMaster(system, 0.4, 1_000, 2_000, console.log);
 */
export async function killMaster(system: ChaosSystem, pick: number, cutOffMs: number, restartAfterMs: number, log: (line: string) => void): Promise<MasterKillRecord> {
  const cluster = system.cluster!;
  const masters = (await cluster.masters()).sort((a, b) => a - b);
  const port = masters[Math.floor(pick * masters.length)]!;
  const master = await nodeClient(port);
  const replicaPort = await replicaOf(master);
  const replica = await nodeClient(replicaPort);
  const record: MasterKillRecord = { at: 0, port, replicaPort, cutOffMs, rolledBack: [], sampled: 0 };
  try {
    // Cut the replica off: a wrong password stops it from syncing again once its link is dropped.
    await replica.sendCommand(['CONFIG', 'SET', 'masterauth', 'chaos-cut-off']);
    await master.sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
    log(`master ${port}: its replica ${replicaPort} cut off for ${cutOffMs} ms before the kill`);
    await Bun.sleep(cutOffMs);
    const before = await versions(master, system.prefix);
    record.sampled = before.size;
    record.at = Date.now();
    await cluster.kill(port);
    master.destroy();
    // Read what the replica kept before it is promoted (it takes no write until then).
    const kept = await versions(replica, system.prefix, true);
    await replica.sendCommand(['CONFIG', 'SET', 'masterauth', '']);
    for (const [actor, v] of before) if ((kept.get(actor) ?? 0) < v) record.rolledBack.push(`${actor} v${v} → ${kept.has(actor) ? `v${kept.get(actor)}` : 'gone'}`);
    log(`SIGKILL Redis master ${port}; its replica ${replicaPort} kept ${before.size - record.rolledBack.length} of ${before.size} actor records as they were (${record.rolledBack.length} rolled back)`);
  } finally {
    replica.destroy();
    master.destroy();
  }

  const live = cluster.nodes.map((n) => Number(n.split(':')[1])).filter((p) => p !== port);
  while (Date.now() - record.at < 60_000) {
    const infos = await Promise.all(live.map(clusterInfo));
    if (infos.every((i) => i.cluster_state === 'ok') && (await replicationInfo(replicaPort)).role === 'master') {
      record.failoverMs = Date.now() - record.at;
      break;
    }
    await Bun.sleep(50);
  }
  log(`failover: ${replicaPort} is master ${record.failoverMs === undefined ? 'NOT within 60 s' : `${record.failoverMs} ms after the kill`}`);

  // The promoted master runs without a replica until the old one is back.
  await Bun.sleep(restartAfterMs);
  const restartedAt = Date.now();
  await cluster.restart(port);
  while (Date.now() - restartedAt < 60_000) {
    const info = await replicationInfo(port);
    if (info.role === 'slave' && info.master_link_status === 'up') {
      record.rejoinedMs = Date.now() - restartedAt;
      break;
    }
    await Bun.sleep(50);
  }
  log(`old master ${port} ${record.rejoinedMs === undefined ? 'did NOT rejoin within 60 s' : `rejoined as a replica in ${record.rejoinedMs} ms`}`);
  return record;
}
