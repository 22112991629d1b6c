/**
 * The committed actors of a service as the node sees them: one actor's record, and exact pages through the
 * per-partition index (`type/id` → state), so 100,000+ actors page as cheaply as ten. Nodes read their own service
 * with these; the operations side's cluster view pages across services with the same cursor.
 */
import { parseAddress, partitionOf } from '../address.ts';
import { stateKey, type ActorRecord } from '../actor/hosted-actor.ts';
import { versionOf } from '../actor/migration.ts';
import { partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';

/** One actor as committed: its state as a short string, its context, its version and XState status. */
/**
 * One actor as committed: its state as a short string, its context, its version (turns committed), the version of
 * the definition that wrote it (`machineVersion`: 1 for records from before versions) and its XState status.
 */
export type ActorView<TContext = any> = { address: string; state: string; context: TContext; version: number; machineVersion: number; status: string };

export type ActorPage = { items: { address: string; state: string }[]; cursor: string | null };

/** Thrown for a cursor this module did not hand out. */
export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor(cursor: string) {
    super(`cursor "${cursor.slice(0, 40)}" is not one this server handed out; start again without it`);
  }
}

/** Reads one actor's committed record; null when it has never committed a turn. */
export async function readActorAt(link: RedisLink, prefix: string, address: string, partitions: number): Promise<ActorView | null> {
  const { service, type, id } = parseAddress(address);
  const keys = partitionKeys(prefix, service, partitionOf(address, partitions));
  const [v, s] = (await link.call(['HMGET', keys.actor(type, id), 'v', 's'])) as [string | null, string | null];
  if (!s) return null;
  const record = JSON.parse(s) as ActorRecord;
  const snap = record.s as { value: unknown; context: any; status: string };
  return { address, state: stateKey(snap.value), context: snap.context, version: Number(v), machineVersion: versionOf(record), status: snap.status };
}

export type ActorIndexQuery = {
  /** Actor type; all types when absent. */
  type?: string;
  /** Glob on the actor id (Redis MATCH syntax). */
  match?: string;
  /** Keeps only actors whose indexed state passes (e.g. not `draft`); the page still holds `limit` of those. */
  where?: (state: string) => boolean;
  cursor?: string;
  limit: number;
  /**
   * HSCAN calls one page may make: a search that matches little among many actors then hands back a cursor with
   * fewer items than asked rather than scan the whole index in one call. Unbounded by default.
   */
  maxScans?: number;
};

/** Where a page stopped: service index, partition, HSCAN cursor, and how many of that scan's items were served. */
type Position = { s: number; p: number; c: string; k: number };

/** HSCAN batch size: fixed, so re-running a scan from a cursor yields the same batch to skip into. */
const SCAN_COUNT = 200;

const encodePosition = (pos: Position) => Buffer.from(JSON.stringify(pos)).toString('base64url');

function decodePosition(cursor: string): Position {
  try {
    const pos = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Position;
    if ([pos.s, pos.p, pos.k].every((n) => Number.isInteger(n) && n >= 0) && /^\d+$/.test(pos.c)) return pos;
  } catch {}
  throw new InvalidCursorError(cursor);
}

/**
 * One page of the actor index of `services` (in that order): exactly `limit` items unless the index is exhausted
 * (or `maxScans` ran out). The cursor resumes right after the last item served; it is null only when the scan is
 * complete, so a page that ends exactly on the index's end may be followed by one empty page.
 *
 * @example
 * const page = await pageActorIndex(link, 'mr', ['shop'], async () => 8, { type: 'counter', limit: 50 });
 * const next = page.cursor ? await pageActorIndex(link, 'mr', ['shop'], async () => 8, { type: 'counter', limit: 50, cursor: page.cursor }) : null;
 */
export async function pageActorIndex(
  link: RedisLink,
  prefix: string,
  services: readonly string[],
  partitionsOf: (service: string) => Promise<number>,
  query: ActorIndexQuery,
): Promise<ActorPage> {
  const { limit } = query;
  let scans = query.maxScans ?? Number.POSITIVE_INFINITY;
  const pattern = `${query.type ?? '*'}/${query.match ?? '*'}`;
  let pos: Position = query.cursor ? decodePosition(query.cursor) : { s: 0, p: 0, c: '0', k: 0 };
  const items: ActorPage['items'] = [];
  while (pos.s < services.length && scans-- > 0) {
    const service = services[pos.s]!;
    if (pos.p >= (await partitionsOf(service))) {
      pos = { s: pos.s + 1, p: 0, c: '0', k: 0 };
      continue;
    }
    const [next, flat] = (await link.call(['HSCAN', partitionKeys(prefix, service, pos.p).index, pos.c, 'MATCH', pattern, 'COUNT', SCAN_COUNT])) as [string, string[]];
    const batch: ActorPage['items'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const state = String(flat[i + 1]);
      if (!query.where || query.where(state)) batch.push({ address: `${service}/${flat[i]}`, state });
    }
    const rest = batch.slice(pos.k);
    const room = limit - items.length;
    if (rest.length > room) {
      items.push(...rest.slice(0, room));
      return { items, cursor: encodePosition({ ...pos, k: pos.k + room }) };
    }
    items.push(...rest);
    pos = String(next) === '0' ? { s: pos.s, p: pos.p + 1, c: '0', k: 0 } : { s: pos.s, p: pos.p, c: String(next), k: 0 };
    if (items.length === limit) break;
  }
  // Stopped on a boundary: there may be nothing left; the next call finds out cheaply.
  return { items, cursor: pos.s < services.length ? encodePosition(pos) : null };
}
