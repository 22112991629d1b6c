/**
 * Reads the shared inspection stream: what the control plane streams to the panel and what tests check.
 * Each stream entry holds a batch; an event's id is `<entry id>/<index>`, so a reader can resume exactly.
 */
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import type { InspectionEvent } from '../inspection.ts';
import { globalKeys } from '../keys.ts';
import { openLink, streamReadReply } from '../redis/link.ts';

export type TailedEvent = { id: string; event: InspectionEvent };

/**
 * Follows inspection events after `from` (an event id, a stream id, or '$' for only new ones).
 *
 * @example
 * const tail = await tailInspection({ from: '0', onEvents: (batch) => console.log(batch.length) });
 * await tail.stop();
 */
export async function tailInspection(options: {
  onEvents: (events: TailedEvent[]) => void;
  from?: string;
  redis?: string;
  keyPrefix?: string;
  blockMs?: number;
}): Promise<{ stop(): Promise<void>; lastId(): string }> {
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  const stream = globalKeys(options.keyPrefix ?? keyPrefixOf()).inspect;
  let [cursor, skip] = splitId(options.from ?? '$');
  if (cursor === '$') {
    const last = (await link.call(['XREVRANGE', stream, '+', '-', 'COUNT', 1])) as [string, string[]][];
    cursor = last[0]?.[0] ?? '0-0';
    skip = Number.POSITIVE_INFINITY;
  }
  let stopped = false;
  const loop = (async () => {
    // The entry named by `from` may be partly read: start at it and skip what was seen.
    let first = skip >= 0;
    while (!stopped) {
      try {
        const rows = first
          ? ((await link.call(['XRANGE', stream, cursor, '+', 'COUNT', 200])) as [string, string[]][])
          : ((streamReadReply(await link.call(['XREAD', 'COUNT', 200, 'BLOCK', options.blockMs ?? 1_000, 'STREAMS', stream, cursor]))[0]?.[1] ?? []) as [string, string[]][]);
        const out: TailedEvent[] = [];
        for (const [id, fields] of rows) {
          const batch = JSON.parse(fields[1] ?? '[]') as InspectionEvent[];
          batch.forEach((event, i) => {
            if (first && id === cursor && i <= skip) return;
            out.push({ id: `${id}/${i}`, event });
          });
          cursor = id;
        }
        first = false;
        if (out.length) options.onEvents(out);
      } catch {
        if (stopped) return;
        await Bun.sleep(200);
      }
    }
  })();
  return {
    lastId: () => cursor,
    async stop() {
      stopped = true;
      link.abort();
      await loop;
    },
  };
}

function splitId(id: string): [string, number] {
  const slash = id.indexOf('/');
  if (slash < 0) return [id, id === '$' ? -1 : -1];
  return [id.slice(0, slash), Number(id.slice(slash + 1))];
}
