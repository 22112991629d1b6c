/**
 * One PING to a Redis URL, with a deadline: how the supervisor knows its private Redis is up and that a given
 * `REDIS_URL` answers at all. Uses node-redis so passwords, databases and TLS in the URL just work; a
 * `redis-cluster://` address is asked through a cluster client (it answers once its topology is known).
 */
import '../redis/tracing-channel.ts';
import { createClient, createCluster } from 'redis';
import { clusterOptions } from '../redis/cluster-link.ts';
import { isClusterUrl } from '../redis/cluster-url.ts';

/**
 * Resolves when Redis at `url` answers PING within `timeoutMs`; rejects with the reason otherwise.
 *
 * @example
 * await pingRedis('redis://127.0.0.1:6380', 1000);
 */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<void> {
  const client = isClusterUrl(url)
    ? createCluster({ ...clusterOptions(url, true), rootNodes: clusterOptions(url).rootNodes.map((n) => ({ ...n, socket: { connectTimeout: timeoutMs, reconnectStrategy: false as const } })) })
    : createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {}); // the rejected connect() below carries the reason
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const ping = async (): Promise<unknown> => {
      await client.connect();
      return 'slots' in client ? client.sendCommand(undefined, true, ['PING']) : client.ping();
    };
    await Promise.race([ping(), deadline]);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}
