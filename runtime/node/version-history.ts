/**
 * Time travel: an actor's last committed versions, read back. The commit script pushes one entry per version onto
 * the actor's history list (newest first) in the same atomic step that writes the record, so every entry is a record
 * that was committed, exactly as it was:
 *
 *   {"v": version, "at": commit time (ms), "k": versions kept, "c": [the messages that made it: {id, type, from?,
 *    kind?}], "r": record}
 *
 * The list is trimmed to its type's `history.keep` in bulk, once longer than keep + ⌈keep/4⌉ (a trim in every commit
 * cost Redis a call a history: docs/benchmarks.md), so it may hold a few older versions: what is read here is the newest
 * `k` of the newest entry, in one script (`read-history-1.lua`), so a commit meanwhile cannot tear the answer. (A list
 * written before `k` existed was trimmed every time, and is read whole.) A version is rebuilt by reading its entry: no
 * replay, no deltas to fold.
 */
import { parseAddress, partitionOf } from '../address.ts';
import { stateKey, type ActorRecord } from '../actor/hosted-actor.ts';
import { versionOf } from '../actor/migration.ts';
import { partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { scripts } from '../redis/script.ts';
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
  // One script: a commit pushing or trimming the list meanwhile cannot tear the page from its bounds.
  const [held, rows, first, last] = (await scripts.readHistory.run(link, [key], ['page', page.offset, page.limit])) as [number, string[], string | null, string | null];
  const versionOfEntry = (raw: string | null) => (raw ? (JSON.parse(String(raw)) as Entry).v : null);
  const items = rows.map((row) => versionFrom(JSON.parse(String(row)) as Entry));
  return { address, items, total: Number(held), newest: versionOfEntry(first), oldest: versionOfEntry(last) };
}

/**
 * The actor exactly as version `version` committed it, or null when that version is not held (never reached, or
 * older than what the history keeps). Versions are consecutive in the list, so the entry is found by its distance
 * from the newest.
 */
export async function readVersionAt(link: RedisLink, prefix: string, address: string, partitions: number, version: number): Promise<ActorSnapshotAt | null> {
  const key = keyOf(prefix, address, partitions);
  const [, raw] = (await scripts.readHistory.run(link, [key], ['at', version])) as [number, string | null];
  if (!raw) return null;
  const entry = JSON.parse(String(raw)) as Entry;
  const snap = entry.r.s as { context: unknown };
  return { ...versionFrom(entry), address, context: snap.context, snapshot: entry.r.s };
}
