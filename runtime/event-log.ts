/**
 * The event log: domain events that actors `publish`, committed with their turn into their partition's slice of
 * the service's log (`{service:p}:events`), so events of one aggregate stay in order. Subscribers read every
 * slice through their own consumer group: at-least-once, in order per aggregate, resumable after a crash
 * (pending entries first), replayable from any id. Each event carries a stable `id` for the subscriber to drop
 * repeats — e.g. by sending its effect as a message with that id.
 */
import { keyPrefixOf } from './config.ts';
import { globalKeys, partitionKeys } from './keys.ts';
import { openLink, streamReadReply, type RedisLink } from './redis/link.ts';
import { UnknownServiceError } from './unknown-service-error.ts';

export type DomainEvent = {
  /** Stable id of the event (use it to drop repeats). */
  id: string;
  type: string;
  /** Address of the actor that published it. */
  aggregate: string;
  at: number;
  /** The message id whose turn published it. */
  cause: string;
  /** Position in the log: `<partition>:<stream id>`. */
  position: string;
  [key: string]: unknown;
};

export type SubscribeOptions = {
  service: string;
  /** Consumer group: each group gets every event once (at least once). */
  group: string;
  handler: (event: DomainEvent) => void | Promise<void>;
  redis?: string;
  keyPrefix?: string;
  /** Consumer name within the group; keep it stable across restarts to resume pending events. Default `${group}-1`. */
  consumer?: string;
  /** Where a new group starts: '0' (the whole log, default), '$' (only new events) or a stream id. */
  from?: string;
  blockMs?: number;
  onError?: (error: unknown, event?: DomainEvent) => void;
};

export type EventSubscription = { stop(): Promise<void>; readonly delivered: number };

/** The service's partition count as its first node registered it; never guessed (see `UnknownServiceError`). */
async function partitionCount(link: RedisLink, prefix: string, service: string): Promise<number> {
  const g = globalKeys(prefix);
  const stored = await link.call(['HGET', g.service(service), 'partitions']);
  if (stored === null || stored === undefined) throw new UnknownServiceError(service, ((await link.call(['SMEMBERS', g.services])) as string[]).map(String).sort());
  return Number(stored);
}

function toEvent(partition: number, streamId: string, fields: string[]): DomainEvent {
  const json = fields[fields.indexOf('e') + 1] ?? '{}';
  return { ...(JSON.parse(json) as DomainEvent), position: `${partition}:${streamId}` };
}

/**
 * Subscribes to a service's event log.
 *
 * @example
 * const sub = await subscribeEvents({ service: 'order', group: 'mailer', handler: async (e) => { ... } });
 * await sub.stop();
 */
export async function subscribeEvents(options: SubscribeOptions): Promise<EventSubscription> {
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const url = options.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const link = await openLink(url, 'node-redis');
  const partitions = await partitionCount(link, prefix, options.service);
  const streams = [...Array(partitions).keys()].map((p) => partitionKeys(prefix, options.service, p).events);
  for (const stream of streams) {
    try {
      await link.call(['XGROUP', 'CREATE', stream, options.group, options.from ?? '0', 'MKSTREAM']);
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }
  const consumer = options.consumer ?? `${options.group}-1`;
  let stopped = false;
  let delivered = 0;
  // First our own pending entries (delivered before a crash, never acked), then new ones.
  let cursor = '0';
  const loop = (async () => {
    while (!stopped) {
      try {
        const args = ['XREADGROUP', 'GROUP', options.group, consumer, 'COUNT', 100];
        if (cursor === '>') args.push('BLOCK', options.blockMs ?? 1_000);
        const res = streamReadReply(await link.call([...args, 'STREAMS', ...streams, ...streams.map(() => cursor)]));
        let any = false;
        for (const [stream, entries] of res) {
          const partition = streams.indexOf(stream);
          for (const [id, fields] of entries) {
            if (stopped) return;
            any = true;
            if (fields) {
              const event = toEvent(partition, id, fields);
              await options.handler(event);
              delivered++;
            }
            await link.call(['XACK', stream, options.group, id]);
          }
        }
        if (cursor === '0' && !any) cursor = '>';
      } catch (error) {
        if (stopped) return;
        options.onError?.(error);
        await Bun.sleep(200);
      }
    }
  })();
  return {
    get delivered() {
      return delivered;
    },
    async stop() {
      stopped = true;
      link.abort();
      await loop;
    },
  };
}

/**
 * Reads a service's log from a position onwards (or an aggregate's events), merged in time order.
 *
 * @example
 * const events = await readEvents({ service: 'order', aggregate: 'order/order/42' });
 */
export async function readEvents(options: {
  service: string;
  redis?: string;
  keyPrefix?: string;
  /** Stream id to start from (inclusive), e.g. a time in ms: '1700000000000'. Default '-'. */
  from?: string;
  aggregate?: string;
  count?: number;
}): Promise<DomainEvent[]> {
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const link = await openLink(options.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'node-redis');
  try {
    const partitions = await partitionCount(link, prefix, options.service);
    const { partitionOf } = await import('./address.ts');
    const parts = options.aggregate ? [partitionOf(options.aggregate, partitions)] : [...Array(partitions).keys()];
    const out: DomainEvent[] = [];
    const limit = options.count ?? 1_000;
    for (const p of parts) {
      // Page through the slice: with an aggregate filter, the first page may hold none of its events.
      let start = options.from ?? '-';
      for (;;) {
        const rows = (await link.call(['XRANGE', partitionKeys(prefix, options.service, p).events, start, '+', 'COUNT', 1_000])) as [string, string[]][];
        for (const [id, fields] of rows) {
          const event = toEvent(p, id, fields);
          if (!options.aggregate || event.aggregate === options.aggregate) out.push(event);
        }
        if (rows.length < 1_000 || (!options.aggregate && out.length >= limit)) break;
        start = `(${rows[rows.length - 1]![0]}`;
      }
    }
    return out.sort((a, b) => a.at - b.at).slice(0, limit);
  } finally {
    await link.close();
  }
}
