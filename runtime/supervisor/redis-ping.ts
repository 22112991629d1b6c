/**
 * One PING to a Redis URL, with a deadline: how the supervisor knows its private Redis is up and that a given
 * `REDIS_URL` answers at all. Uses node-redis so passwords, databases and TLS in the URL just work.
 */
import { createClient } from 'redis';

/**
 * Resolves when Redis at `url` answers PING within `timeoutMs`; rejects with the reason otherwise.
 *
 * @example
 * await pingRedis('redis://127.0.0.1:6380', 1000);
 */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<void> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {}); // the rejected connect() below carries the reason
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([client.connect().then(() => client.ping()), deadline]);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}
