/** Reading a service's event log directly, without a consumer group: from a position, or one aggregate's events. */
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import { partitionKeys } from '../keys.ts';
import { openLink } from '../redis/link.ts';
import { toEvent, type DomainEvent } from './domain-event.ts';
import { partitionCount } from './partitions.ts';

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
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  try {
    const partitions = await partitionCount(link, prefix, options.service);
    const { partitionOf } = await import('../address.ts');
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
