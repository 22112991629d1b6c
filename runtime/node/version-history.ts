/**
 * Time travel: an actor's last committed versions, read back. The commit script pushes one entry per version onto
 * the actor's history list (newest first) in the same atomic step that writes the record, so every entry is a record
 * that was committed, exactly as it was:
 *
 *   {"v": version, "at": commit time (ms), "k": versions kept, "c": [the messages that made it: {id, type, from?,
 *    kind?}], "r": record}
 *
 * The list is trimmed to its type's `history.keep` in bulk, once it outgrew it by a quarter (a trim per commit cost
 * Redis ~4 µs a history: docs/benchmarks.md), so it may hold a few older versions: what is read here is the newest
 * `k` of the newest entry, exactly as if it were trimmed every time. (Entries written before `k` existed were.)
 * A version is rebuilt by reading its entry: no replay, no deltas to fold.
 */
import { parseAddress, partitionOf } from '../address.ts';
import { stateKey, type ActorRecord } from '../actor/hosted-actor.ts';
import { versionOf } from '../actor/migration.ts';
import { partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import type { VersionCause } from './batch.ts';

/** One committed version of an actor, as the history lists it. */
export type ActorVersion = {
  version: number;
  at: number;
  /** The messages applied in the turn(s) that committed it, oldest first (usually one). */
  causes: VersionCause[];
  state: string;
  status: string;
  /** The version of the actor type's definition that wrote it. */
  machineVersion: number;
};

/** One version rebuilt: what the actor was right after it committed. */
export type ActorSnapshotAt = ActorVersion & { address: string; context: unknown; snapshot: unknown };

/** A page of an actor's history, newest first, with the range of versions still held. */
export type ActorHistoryPage = { address: string; items: ActorVersion[]; total: number; newest: number | null; oldest: number | null };

type Entry = { v: number; at: number; k?: number; c: VersionCause[]; r: ActorRecord };

/** How many entries of the list are kept: the newest entry's `k`, or all of them when it has none. */
const keptOf = (newest: Entry | null, length: number) => (newest && typeof newest.k === 'number' ? Math.min(newest.k, length) : length);

function versionFrom(entry: Entry): ActorVersion {
  const snap = entry.r.s as { value: unknown; status: string };
  return { version: entry.v, at: entry.at, causes: entry.c, state: stateKey(snap.value), status: snap.status, machineVersion: versionOf(entry.r) };
}

const keyOf = (prefix: string, address: string, partitions: number) => {
  const { service, type, id } = parseAddress(address);
  return partitionKeys(prefix, service, partitionOf(address, partitions)).history(type, id);
};

/** `limit` versions from the `offset`-th newest; an actor without a history gets an empty page. */
export async function readHistoryAt(link: RedisLink, prefix: string, address: string, partitions: number, page: { offset: number; limit: number }): Promise<ActorHistoryPage> {
  const key = keyOf(prefix, address, partitions);
  const [length, rows, first, last] = (await Promise.all([
    link.call(['LLEN', key]),
    link.call(['LRANGE', key, page.offset, page.offset + page.limit - 1]),
    link.call(['LINDEX', key, 0]),
    link.call(['LINDEX', key, -1]),
  ])) as [number, string[], string | null, string | null];
  const newest = first ? (JSON.parse(String(first)) as Entry) : null;
  const total = keptOf(newest, Number(length));
  // Past the versions kept, entries the next bulk trim removes: not shown.
  const oldestRaw = total === 0 ? null : total < Number(length) ? ((await link.call(['LINDEX', key, total - 1])) as string | null) : last;
  const items = rows.slice(0, Math.max(0, total - page.offset)).map((row) => versionFrom(JSON.parse(String(row)) as Entry));
  return { address, items, total, newest: newest ? newest.v : null, oldest: oldestRaw ? (JSON.parse(String(oldestRaw)) as Entry).v : null };
}

/**
 * The actor exactly as version `version` committed it, or null when that version is not held (never reached, or
 * older than what the history keeps). Versions are consecutive in the list, so the entry is found by its distance
 * from the newest.
 */
export async function readVersionAt(link: RedisLink, prefix: string, address: string, partitions: number, version: number): Promise<ActorSnapshotAt | null> {
  const key = keyOf(prefix, address, partitions);
  const first = (await link.call(['LINDEX', key, 0])) as string | null;
  if (!first) return null;
  const newest = JSON.parse(String(first)) as Entry;
  // Older than the newest `k`: no longer kept, even while the list still holds it until its next bulk trim.
  if (version > newest.v || version < 1 || (typeof newest.k === 'number' && newest.v - version >= newest.k)) return null;
  const raw = newest.v === version ? first : ((await link.call(['LINDEX', key, newest.v - version])) as string | null);
  if (!raw) return null;
  const entry = JSON.parse(String(raw)) as Entry;
  // Consecutive by construction; a mismatch would mean the list was written by something else: say not held.
  if (entry.v !== version) return null;
  const snap = entry.r.s as { context: unknown };
  return { ...versionFrom(entry), address, context: snap.context, snapshot: entry.r.s };
}
