/**
 * Following a service's event log from now on, without a consumer group: for a process that wants to hear of
 * events while it runs and keeps nothing across restarts (a gateway's in-flight count), so it leaves no group
 * behind in Redis when it dies. One `XREAD BLOCK` over every slice, past the last entry each has shown; after a
 * failed read it goes on from there, so nothing added meanwhile is skipped. On a Redis Cluster the slices live in
 * different slots, so each slice is followed on a link of its own.
 *
 * It is not a subscription: no event is retried, and events trimmed before they were read are not announced.
 * Use `subscribeEvents` for work that must see every event.
 */
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { partitionKeys } from '../keys.ts';
import { isClusterUrl } from '../redis/cluster-url.ts';
import { openLink, streamReadReply, type RedisLink } from '../redis/link.ts';
import { toEvent, type DomainEvent } from './domain-event.ts';
import { partitionCount } from './partitions.ts';

export type EventTail = { stop(): Promise<void> };

/**
 * Hands `onEvent` each event the service publishes from now on, in order per slice.
 *
 * @example
 * const tail = await tailEvents({ service: 'order', onEvent: (e) => e.type === 'OrderConfirmed' && done(e.orderId) });
 * await tail.stop();
 */
export async function tailEvents(options: {
  service: string;
  onEvent: (event: DomainEvent) => void;
  redis?: string;
  keyPrefix?: string;
  /** How long one blocking read lasts before it is sent again. Default 1,000 ms. */
  blockMs?: number;
  /**
   * How long to wait after a read that brought events before reading again (ms; default 0), read each time: events
   * committed meanwhile come in one read, so the tail and Redis wake once for them rather than once each, and each
   * is heard up to this much later.
   */
  lingerMs?: number | (() => number);
  /** Each failed read (it is sent again after 200 ms). */
  onError?: (error: unknown) => void;
  /** A connection to read on, which the tail then owns (closes when it stops, or when it cannot begin). */
  link?: RedisLink;
}): Promise<EventTail> {
  const url = options.redis ?? redisUrlOf();
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const blockMs = options.blockMs ?? 1_000;
  const first = options.link ?? (await openLink(url, 'node-redis', { blocking: true }));
  const links: RedisLink[] = [first];
  let streams: string[];
  let after: string[];
  let groups: number[][];
  try {
    const partitions = await partitionCount(first, prefix, options.service);
    streams = Array.from({ length: partitions }, (_, p) => partitionKeys(prefix, options.service, p).events);
    // Where each slice ends now: what is added later is what the tail hands on.
    after = await Promise.all(streams.map(async (stream) => {
      const [last] = (await first.call(['XREVRANGE', stream, '+', '-', 'COUNT', 1])) as [string, string[]][];
      return last ? String(last[0]) : '0-0';
    }));
    groups = isClusterUrl(url) ? streams.map((_, p) => [p]) : [streams.map((_, p) => p)];
    for (let i = 1; i < groups.length; i++) links.push(await openLink(url, 'node-redis', { blocking: true }));
  } catch (error) {
    // It could not begin: nothing it opened stays open.
    await Promise.all(links.map((link) => link.close().catch(() => link.abort())));
    throw error;
  }
  let stopped = false;

  const follow = async (link: RedisLink, slices: number[]) => {
    while (!stopped) {
      try {
        const reply = await link.call(['XREAD', 'COUNT', 500, 'BLOCK', blockMs, 'STREAMS', ...slices.map((p) => streams[p]!), ...slices.map((p) => after[p]!)]);
        const read = streamReadReply(reply);
        for (const [stream, entries] of read) {
          const p = streams.indexOf(stream);
          for (const [id, fields] of entries) {
            after[p] = id;
            if (!fields) continue; // an entry deleted after it was added: nothing to hand on
            try {
              options.onEvent(toEvent(p, id, fields));
            } catch (error) {
              options.onError?.(error);
            }
          }
        }
        const linger = typeof options.lingerMs === 'function' ? options.lingerMs() : (options.lingerMs ?? 0);
        if (linger > 0 && read.length > 0 && !stopped) await Bun.sleep(linger);
      } catch (error) {
        if (stopped) return;
        options.onError?.(error);
        await Bun.sleep(200);
      }
    }
  };
  const loops = groups.map((slices, i) => follow(links[i]!, slices));
  return {
    async stop() {
      stopped = true;
      for (const link of links) link.abort();
      await Promise.all(loops);
    },
  };
}
