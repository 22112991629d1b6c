/**
 * One small interface over a Redis connection, so a node's own connections use Bun's built-in `RedisClient` (its
 * default: less CPU per command than node-redis, see docs/architecture.md#redis-client) while everything else uses
 * node-redis, the project's client. Replies are whatever the client gives back — Bun's speaks RESP3, so a hash or a
 * stream read may come as an object where node-redis gives an array: `hashReply` and `streamReadReply` read both.
 */
import { RedisClient } from 'bun';
import './tracing-channel.ts';
import { createClient } from 'redis';
import { openClusterLink } from './cluster-link.ts';
import { isClusterUrl } from './cluster-url.ts';

export type RedisArg = string | number;

export interface RedisLink {
  /**
   * Sends one command, e.g. `call(['XADD', key, '*', 'a', '1'])`. Concurrent calls are pipelined in order. On a
   * cluster a command goes to the master of its first key's slot; `routeKey` names the slot of a command that has
   * no key (`WAIT` must reach the master that took the writes it waits for). One Redis ignores it.
   */
  call(args: RedisArg[], routeKey?: string): Promise<unknown>;
  /** Closes after the commands in flight (graceful). */
  close(): Promise<void>;
  /** Closes now, failing commands in flight (e.g. to end a blocking read). */
  abort(): void;
}

export type LinkKind = 'bun' | 'node-redis';

/**
 * Opens a connection that reconnects by itself; to a cluster when `url` is a `redis-cluster://` address (see
 * `cluster-link.ts`: then `kind` does not matter, and `blocking` asks for a link that connects only where it reads).
 *
 * @example
 * const link = await openLink('redis://127.0.0.1:6379');
 * await link.call(['PING']); // 'PONG'
 */
export async function openLink(url: string, kind: LinkKind = 'bun', options: { blocking?: boolean } = {}): Promise<RedisLink> {
  if (isClusterUrl(url)) return openClusterLink(url, { minimizeConnections: options.blocking });
  return kind === 'bun' ? openBunLink(url) : openNodeRedisLink(url);
}

/** The arguments from `from` on, as strings (one array built, no slice first). */
function toStrings(args: RedisArg[], from = 0): string[] {
  const out = new Array<string>(args.length - from);
  for (let i = from; i < args.length; i++) out[i - from] = String(args[i]);
  return out;
}

async function openBunLink(url: string): Promise<RedisLink> {
  let closed = false;
  const make = () => new RedisClient(url, { autoReconnect: true, maxRetries: 1_000_000, connectionTimeout: 5_000 });
  let client = make();
  let broken = false;
  client.onclose = () => {
    broken = true;
  };
  await client.connect();
  // The last command sent while the connection was down (Bun queues it until it reconnects), for close() to wait on.
  let queuedWhileDown: Promise<unknown> | null = null;
  return {
    call(args) {
      if (closed) return Promise.reject(new Error('redis link is closed'));
      if (broken) {
        // Bun gives up after its retries (or an idle timeout): start over with a fresh client.
        broken = false;
        client = make();
        client.onclose = () => {
          broken = true;
        };
      }
      // No async frame and no set of commands in flight: this is every Redis call's path.
      try {
        const reply = client.send(String(args[0]), toStrings(args, 1));
        if (!client.connected) queuedWhileDown = reply;
        return reply;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async close() {
      closed = true;
      // Commands sent and not answered yet may finish, as node-redis's QUIT lets them: one connection answers in
      // order, so a PING's answer comes after all of theirs. While the connection is down, what was sent on it before
      // has failed, and what was sent since waits in Bun's queue: the last of those is answered after the others. At
      // most 2 s: a Redis that does not answer must not hold a shutdown (what is left then fails, as on abort).
      const last = client.connected ? client.send('PING', []) : queuedWhileDown;
      if (last) await Promise.race([last.catch(() => {}), Bun.sleep(2_000)]);
      client.close();
    },
    abort() {
      closed = true;
      client.close();
    },
  };
}

async function openNodeRedisLink(url: string): Promise<RedisLink> {
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000) },
    // No per-command timer: node-redis arms a 5 s AbortSignal per command by default, which costs about a third of
    // a send on the hot path. A dead connection still fails every command in flight when the socket closes.
    commandOptions: { timeout: 0 },
  });
  client.on('error', () => {
    // Reconnection is automatic; commands in flight reject and their callers decide.
  });
  await client.connect();
  return {
    call: (args) => client.sendCommand(toStrings(args)) as Promise<unknown>,
    async close() {
      try {
        await client.quit();
      } catch {
        client.destroy();
      }
    },
    abort() {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    },
  };
}

export type StreamEntry = [id: string, fields: string[] | null];

/**
 * The reply of XREAD / XREADGROUP as `[stream, entries]` pairs, whether the client speaks RESP2 (an array of
 * pairs) or RESP3 (a map from stream to entries).
 */
export function streamReadReply(reply: unknown): [string, StreamEntry[]][] {
  if (!reply) return [];
  if (Array.isArray(reply)) return reply as [string, StreamEntry[]][];
  if (reply instanceof Map) return [...reply.entries()] as [string, StreamEntry[]][];
  return Object.entries(reply as Record<string, StreamEntry[]>);
}

/**
 * A hash-like reply (HGETALL, a stream entry's fields) as a record, whether it came flat `[k, v, k, v]` (RESP2) or
 * as a map (RESP3).
 *
 * @example
 * hashReply(['a', '1', 'b', '2']); // { a: '1', b: '2' }
 */
export function hashReply(raw: unknown): Record<string, string> {
  if (Array.isArray(raw)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = String(raw[i + 1]);
    return out;
  }
  if (raw instanceof Map) return Object.fromEntries([...raw].map(([k, v]) => [String(k), String(v)]));
  return (raw ?? {}) as Record<string, string>;
}
