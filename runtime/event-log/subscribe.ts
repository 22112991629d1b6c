/**
 * Subscribing to a service's event log: one consumer group over every slice, each slice read on its own (see
 * `slice-reader.ts`), the idle ones waiting on one doorbell (`doorbell.ts`; on a cluster, one per slice).
 */
import { systemClock, type Clock } from '../clock.ts';
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import type { Inspector } from '../inspection.ts';
import { partitionKeys } from '../keys.ts';
import { openLink } from '../redis/link.ts';
import { isClusterUrl } from '../redis/cluster-url.ts';
import { Doorbell, PerSliceDoorbells, type SliceDoorbell } from './doorbell.ts';
import type { DomainEvent, GapNotice } from './domain-event.ts';
import { partitionCount } from './partitions.ts';
import { SliceReader, type SliceContext } from './slice-reader.ts';

export type SubscribeOptions = {
  service: string;
  /** Consumer group: each group gets every event once (at least once). */
  group: string;
  /**
   * Gets the events, one at a time per slice, in order per slice (so per aggregate); slices are handled
   * concurrently. Also gets gap notices (`isGapNotice(event)`): events it will never get, because the slice was
   * trimmed before the group read them. A throw is retried (see `maxAttempts`) before any later event of its slice.
   */
  handler: (event: DomainEvent) => void | Promise<void>;
  redis?: string;
  keyPrefix?: string;
  /** Consumer name within the group; keep it stable across restarts to resume pending events. Default `${group}-1`. */
  consumer?: string;
  /**
   * Where a new group starts: '0' (the whole log, default), '$' (only new events) or a stream id. A group that
   * starts at '0' on a log whose beginning was trimmed gets a gap notice for it first.
   */
  from?: string;
  /** How long the idle subscriber's one blocking read lasts before it is sent again. Default 1,000 ms. */
  blockMs?: number;
  /** Attempts at an event, the first included, before it goes to the group's dead letters. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry; each further one doubles it, up to `maxRetryDelayMs`. Default 200 ms. */
  retryDelayMs?: number;
  /** Default 10 s. */
  maxRetryDelayMs?: number;
  /** Entries read per command. Default 100. */
  batch?: number;
  /** Told of every gap notice before the handler gets it (also reported as a `subscriber.gap` inspection event). */
  onGap?: (gap: GapNotice) => void;
  /**
   * Gets `subscriber.gap`, `subscriber.deadletter` and `retry.attempt` inspection events. Pass a node's `inspect`
   * (or `openInspector(…).inspect`) to put them on the shared stream the panel shows.
   */
  inspect?: Inspector;
  /** Every error: Redis's, and each throw of the handler (with its event). */
  onError?: (error: unknown, event?: DomainEvent) => void;
  clock?: Clock;
};

export type EventSubscription = { stop(): Promise<void>; readonly delivered: number };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Subscribes to a service's event log. Each event reaches the handler at least once, in order per aggregate; an
 * event the handler keeps failing on ends in the group's dead letters (`partitionKeys(…).eventDeadLetters(group)`),
 * and events trimmed before the group read them are announced by a gap notice — never lost silently.
 *
 * @example
 * const sub = await subscribeEvents({
 *   service: 'order',
 *   group: 'mailer',
 *   handler: async (e) => (isGapNotice(e) ? resync(e.partition) : mail(e)),
 *   inspect: (e) => console.log(e),
 * });
 * await sub.stop();
 */
export async function subscribeEvents(options: SubscribeOptions): Promise<EventSubscription> {
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const url = options.redis ?? redisUrlOf();
  const { service, group } = options;
  const clock = options.clock ?? systemClock;
  const link = await openLink(url, 'node-redis');
  let partitions: number;
  try {
    partitions = await partitionCount(link, prefix, service);
  } catch (error) {
    await link.close();
    throw error;
  }
  const streams = [...Array(partitions).keys()].map((p) => partitionKeys(prefix, service, p).events);
  const ensureGroup = async (stream: string) => {
    try {
      const from = options.from ?? '0';
      // From the start, the group has read nothing: say so, or Redis leaves entries-read unknown (see read-slice-2.lua).
      await link.call(['XGROUP', 'CREATE', stream, group, from, 'MKSTREAM', ...(from === '0' || from === '0-0' ? ['ENTRIESREAD', 0] : [])]);
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  };
  for (const stream of streams) await ensureGroup(stream);

  let stopped = false;
  let wakeSleepers: () => void = () => {};
  const stopping = new Promise<void>((r) => (wakeSleepers = r));
  const onError = (error: unknown, event?: DomainEvent) => options.onError?.(error, event);
  const inspect = options.inspect ?? (() => {});
  const blockMs = options.blockMs ?? 1_000;
  // One Redis: one blocking read watches every idle slice. A cluster: a blocking read per slice, as slices live in different slots.
  const doorbell: SliceDoorbell = isClusterUrl(url)
    ? await PerSliceDoorbells.open(streams, () => openLink(url, 'node-redis', { blocking: true }), link, blockMs, onError)
    : new Doorbell(await openLink(url, 'node-redis'), link, streams, blockMs, onError);
  const ctx: SliceContext = {
    link,
    prefix,
    service,
    group,
    consumer: options.consumer ?? `${group}-1`,
    handler: options.handler,
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryDelayMs: options.retryDelayMs ?? 200,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 10_000,
    batch: options.batch ?? 100,
    clock,
    doorbell,
    ensureGroup,
    gap(notice) {
      const { at, partition, missed, after, before, reason } = notice;
      inspect({ type: 'subscriber.gap', at, source: service, service, group, partition, missed, after, before, reason });
      options.onGap?.(notice);
    },
    retry(event, attempt, delayMs, error) {
      const policy = `subscriber ${group} ${event.position}`;
      inspect({ type: 'retry.attempt', at: clock.now(), source: service, policy, attempt, maxAttempts: ctx.maxAttempts, delayMs, error: messageOf(error) });
    },
    deadLetter(event, partition, error, attempts) {
      inspect({
        type: 'subscriber.deadletter', at: clock.now(), source: service, service, group, partition,
        eventId: event.id, eventType: event.type, aggregate: event.aggregate, position: event.position, error: messageOf(error), attempts,
      });
    },
    error: onError,
    stopped: () => stopped,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, ms);
        void stopping.then(() => {
          clock.clearTimeout(timer);
          resolve();
        });
      }),
  };
  const readers = streams.map((_, p) => new SliceReader(ctx, p));
  const running = readers.map((r) => r.run());
  return {
    get delivered() {
      return readers.reduce((n, r) => n + r.delivered, 0);
    },
    async stop() {
      stopped = true;
      wakeSleepers();
      await doorbell.stop();
      await Promise.all(running);
      await link.close();
    },
  };
}
