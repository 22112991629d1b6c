/**
 * What Redis holds for a Mailroom system, by what it is for: `bench saga` reads it before and after its overload
 * phase, so that "Redis memory stays flat" can be told apart from "Redis keeps what the accepted orders left". The
 * mailboxes (the backlog admission control bounds) are one family; the actors' records and their version histories,
 * kept for their type's retention, are others; the event log, the inspection stream and the dedup window are capped
 * by count or by time.
 */
import type { RedisClient } from 'bun';

export const MEMORY_FAMILIES = ['mailboxes', 'timers and effects', 'records', 'histories', 'event log', 'dedupe', 'dead letters', 'inspection', 'service data', 'other'] as const;
export type MemoryFamily = (typeof MEMORY_FAMILIES)[number];

/** Bytes per family, and the mailbox keys seen (to read them alone later, cheaply). */
export type MemoryByFamily = { bytes: Record<MemoryFamily, number>; keys: Record<MemoryFamily, number>; mailboxKeys: string[] };

const PARTITION_KEY = /^\{[^}]+\}:(.*)$/;

/**
 * The family of one key under `prefix` (see `runtime/keys.ts` for the names).
 *
 * @example
 * familyOf('mr:{order:1}:mbox', 'mr'); // 'mailboxes'
 * familyOf('mr:{order:1}:h:fulfillment:o-1', 'mr'); // 'histories'
 */
export function familyOf(key: string, prefix: string): MemoryFamily {
  if (!key.startsWith(`${prefix}:`)) return 'other';
  const rest = key.slice(prefix.length + 1);
  if (rest === 'inspect') return 'inspection';
  if (rest.startsWith('svc:')) return 'service data';
  const part = PARTITION_KEY.exec(rest)?.[1];
  if (part === undefined) return 'other';
  if (part === 'mbox' || part === 'outbox') return 'mailboxes';
  if (part === 'timers' || part === 'timerdata' || part === 'effects' || part === 'tries') return 'timers and effects';
  if (part.startsWith('a:') || part === 'index' || part === 'expiry') return 'records';
  if (part.startsWith('h:')) return 'histories';
  if (part === 'events' || part.startsWith('events:')) return 'event log';
  if (part === 'seen') return 'dedupe';
  if (part === 'dlq') return 'dead letters';
  return 'other';
}

const zero = (): Record<MemoryFamily, number> => Object.fromEntries(MEMORY_FAMILIES.map((f) => [f, 0])) as Record<MemoryFamily, number>;

/** Every key under `prefix`, its `MEMORY USAGE` (every element counted) summed by family. */
export async function memoryByFamily(client: RedisClient, prefix: string): Promise<MemoryByFamily> {
  const out: MemoryByFamily = { bytes: zero(), keys: zero(), mailboxKeys: [] };
  // SCAN may return a key more than once (while Redis rehashes): each is counted once.
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, page] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]];
    cursor = String(next);
    const keys = page.filter((k) => !seen.has(k));
    for (const k of keys) seen.add(k);
    const sizes = await usages(client, keys);
    keys.forEach((key, i) => {
      const family = familyOf(key, prefix);
      out.bytes[family] += sizes[i]!;
      out.keys[family]++;
      if (family === 'mailboxes') out.mailboxKeys.push(key);
    });
  } while (cursor !== '0');
  return out;
}

/**
 * The bytes of the given keys now, without scanning the keyspace: the mailboxes (and outboxes) a `memoryByFamily`
 * listed — one first made after it is not counted.
 */
export async function bytesOf(client: RedisClient, keys: readonly string[]): Promise<number> {
  return (await usages(client, keys)).reduce((sum, bytes) => sum + bytes, 0);
}

/** `MEMORY USAGE` of each key, every element counted; a key deleted meanwhile answers null: it holds nothing now. */
async function usages(client: RedisClient, keys: readonly string[]): Promise<number[]> {
  const sizes = await Promise.all(keys.map((k) => client.send('MEMORY', ['USAGE', k, 'SAMPLES', '0'])));
  return sizes.map((size) => Number(size ?? 0));
}
