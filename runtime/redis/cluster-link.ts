/**
 * A `RedisLink` over a Redis Cluster (node-redis `createCluster`): each command goes to the master of its first
 * key's slot, following MOVED/ASK redirections and the topology changes of a failover. Bun's own client speaks no
 * cluster, so this is the link on a cluster whatever `LinkKind` asks for.
 *
 * One link holds at most one connection per master. A blocking read holds its connection, so whoever blocks
 * (a partition's doorbell, a subscriber's slice, the supervisor's command list) opens a link of its own, as on a
 * single Redis; with `minimizeConnections` such a link only connects to the master it reads from.
 */
import './tracing-channel.ts';
import { createCluster } from 'redis';
import { parseClusterUrl } from './cluster-url.ts';
import { firstKeyOf } from './command-keys.ts';
import type { RedisLink } from './link.ts';

const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000);

/** The options node-redis's `createCluster` takes for a cluster address (shared with the ask listener). */
export function clusterOptions(url: string, minimizeConnections = false) {
  const { nodes, username, password } = parseClusterUrl(url);
  return {
    rootNodes: nodes.map((node) => ({ url: `redis://${node}`, socket: { connectTimeout: 2_000, reconnectStrategy } })),
    defaults: { username, password, socket: { connectTimeout: 2_000, reconnectStrategy } },
    minimizeConnections,
    // No per-command timer (as on one Redis): a dead connection fails the commands in flight when it closes.
    commandOptions: { timeout: 0 },
  };
}

/**
 * @example
 * const link = await openClusterLink('redis-cluster://127.0.0.1:7001,127.0.0.1:7002');
 * await link.call(['XADD', 'mr:{order:3}:mbox', '*', 'a', '1']); // sent to the master of {order:3}'s slot
 */
export async function openClusterLink(url: string, options: { minimizeConnections?: boolean } = {}): Promise<RedisLink> {
  const cluster = createCluster(clusterOptions(url, options.minimizeConnections));
  cluster.on('error', () => {
    // Reconnection and topology refresh are automatic; commands in flight reject and their callers decide.
  });
  await cluster.connect();
  return {
    call: (args, routeKey) => cluster.sendCommand(routeKey ?? firstKeyOf(args), false, args.map(String)) as Promise<unknown>,
    async close() {
      try {
        await cluster.close();
      } catch {
        cluster.destroy();
      }
    },
    abort() {
      try {
        cluster.destroy();
      } catch {
        // already closed
      }
    },
  };
}
