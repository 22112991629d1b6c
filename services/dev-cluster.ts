/**
 * `bun run dev --cluster`: a local Redis Cluster of 3 masters and 3 replicas for the whole system, on ports
 * 7001–7006 (shifted by `MAILROOM_PORT_OFFSET`, or from `MAILROOM_PORT_CLUSTER`), its data under `.data/cluster`.
 * Every process finds it in `MAILROOM_REDIS_CLUSTER`, which this sets before any of them starts.
 */
import { join } from 'node:path';
import { portFromEnv } from '../runtime/config.ts';
import { reclaimLeftoverRedis, startLocalCluster, type LocalCluster } from '../runtime/supervisor/index.ts';

/** The first node's port; the others follow it. */
export const DEFAULT_CLUSTER_PORT = 7001;
const NODES = 6;

/**
 * Starts (or restarts) the dev cluster and points `MAILROOM_REDIS_CLUSTER` at it.
 *
 * @example
 * const cluster = await startDevCluster('.data'); // … then, when stopping: await cluster.stop();
 */
export async function startDevCluster(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<LocalCluster> {
  const first = portFromEnv('cluster', DEFAULT_CLUSTER_PORT, env);
  const ports = [...Array(NODES).keys()].map((i) => first + i);
  const dir = join(dataDir, 'cluster');
  // Nodes left running by a supervisor that was killed outright are recognised by their data directory.
  for (const port of ports) {
    const pid = await reclaimLeftoverRedis({ port, dataDir: join(dir, String(port)) });
    if (pid) console.log(`supervisor: stopped a cluster node left running by an earlier run (port ${port}, pid ${pid})`);
  }
  const started = performance.now();
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({ ports, dataDir: dir });
  } catch (error) {
    console.error(`mailroom: --cluster: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  env.MAILROOM_REDIS_CLUSTER = cluster.env;
  console.log(`supervisor: Redis Cluster up on ports ${ports[0]}–${ports[ports.length - 1]} (3 masters, 3 replicas, cluster_state:ok, ${((performance.now() - started) / 1000).toFixed(1)} s; data in ${dir})`);
  return cluster;
}
