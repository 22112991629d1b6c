/**
 * The Redis connection a process opens at start, and the health check that reports it. The process starts serving
 * HTTP at once and keeps reconnecting in the background, so a Redis that comes up late (or restarts) is picked up,
 * and `/health` says `degraded` meanwhile. Later issues hand this client to the runtime node. On a Redis Cluster
 * (`MAILROOM_REDIS_CLUSTER`) it is a cluster client, and `call` routes each command by its first key.
 */
import { createClient, createCluster } from 'redis';
import { redisUrlOf as runtimeRedisUrlOf } from '../../runtime/config.ts';
import { clusterOptions, firstKeyOf, isClusterUrl, redactedUrl } from '../../runtime/redis/index.ts';
import { portOf } from '../config.ts';

/**
 * The cluster of `MAILROOM_REDIS_CLUSTER`, else `REDIS_URL`, else the supervisor's private Redis on its default port.
 *
 * @example
 * redisUrlOf({}); // 'redis://127.0.0.1:6380'
 */
export function redisUrlOf(env: Record<string, string | undefined> = process.env): string {
  return runtimeRedisUrlOf(env, `redis://127.0.0.1:${portOf('redis', env)}`);
}

/**
 * Connects (in the background) and returns the client with a health check and a close function.
 *
 * @example
 * const redis = connectRedis('order');
 * const app = createServiceApp({ name: 'order', checks: { redis: redis.check } });
 * onShutdown(redis.close);
 */
export function connectRedis(processName: string, url: string = redisUrlOf()) {
  const cluster = isClusterUrl(url);
  // What logs and /health may say: the address without its password.
  const shown = redactedUrl(url);
  const client = cluster
    ? createCluster(clusterOptions(url))
    : createClient({
        url,
        socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
      });
  // node-redis emits 'error' on every failed reconnect; say it once per outage, not once per retry.
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    console.error(`[${processName}] redis unreachable at ${shown}: ${error.message || error.name}`);
  });
  client.on('ready', () => {
    if (down) console.log(`[${processName}] redis reachable again at ${shown}`);
    down = false;
  });
  client.connect().catch(() => {});

  return {
    client,
    /** One command, e.g. `call(['HGET', key, field])`: to the node of its first key (or of `routeKey`) on a cluster. */
    call: (args: string[], routeKey?: string): Promise<unknown> => ('slots' in client ? client.sendCommand(routeKey ?? firstKeyOf(args), false, args) : client.sendCommand(args)),
    /** Resolves when Redis answers PING; throws when it does not. */
    async check(): Promise<void> {
      if ('slots' in client) {
        if (!client.isOpen) throw new Error(`not connected to ${shown}`);
        await client.sendCommand(undefined, true, ['PING']);
        return;
      }
      if (!client.isReady) throw new Error(`not connected to ${shown}`);
      await client.ping();
    },
    async close(): Promise<void> {
      if ('slots' in client) {
        await client.close().catch(() => client.destroy());
        return;
      }
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    },
  };
}
