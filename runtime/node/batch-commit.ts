/**
 * One call of the commit script for a batch: the keys it touches (the partition's, then one record per actor
 * changed, then one history list per changed actor whose type keeps a history), each actor's write with its version
 * check and its history entry, the replies to publish, and what the script answered.
 */
import type { HostedActor } from '../actor/hosted-actor.ts';
import type { PartitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import type { ActorWrite, Batch, ReplyPayload, VersionCause } from './batch.ts';
import type { ReplyTo } from './envelope.ts';
import type { ReplyMode } from './asks.ts';

export type CommitSettings = { group: string; nodeId: string; seenHorizonMs: number; eventsMaxLen: number; deadLettersMaxLen: number; replies: ReplyMode; delivery: Delivery };

/**
 * How a committed batch's messages reach their mailboxes: `commit` (appended by the commit script itself, one Redis:
 * no outbox entry to relay and delete) or `relay` (through the partition's outbox, relayed after the commit — a
 * cluster, whose mailboxes live in other slots, or commits that wait for replicas before anything leaves).
 */
export type Delivery = 'commit' | 'relay';

export type CommitOutcome =
  | {
      kind: 'committed';
      outboxId: string;
      deadLettersTrimmed: number;
      local: { to: ReplyTo; payload: ReplyPayload }[];
      /** Replies to other nodes the caller publishes (mode `after`): [channel, payload]. */
      remote: [string, string][];
    }
  | { kind: 'fenced' }
  | { kind: 'conflict'; key: string; stored: string }
  /** A message of the batch (`id`) was processed before: nothing was written. */
  | { kind: 'duplicate'; id: string }
  | { kind: 'refused'; what: string }
  /** The group was not where the read took new entries from: nothing written but, at most, their delivery. */
  | { kind: 'not-delivered'; what: string };

/**
 * Records longer than this (characters of JSON) go to the script as arguments of their own rather than inside the
 * batch's JSON, where the client escapes them and the script's JSON decoder unescapes them again — a saga's record
 * is ~1.7 KB. Small ones (a counter's ~60 bytes) stay inside: an argument each costs more than their escaping.
 */
export const LARGE_RECORD = 256;
/** The script's argument number of the first large record (ARGV[8]: see commit-turn-12.lua). */
export const FIRST_RECORD_ARG = 8;

/** Commits a batch; throws when Redis does not answer (then whether it committed is unknown). */
export async function commitBatch(
  link: RedisLink,
  keys: PartitionKeys,
  leaseValue: string,
  settings: CommitSettings,
  replyChannel: (nodeId: string) => string,
  batch: Batch,
  actors: readonly HostedActor[],
  now: number,
): Promise<CommitOutcome> {
  const scriptKeys = [keys.lease, keys.mbox, keys.seen, keys.outbox, keys.events, keys.timers, keys.timerData, keys.effects, keys.tries, keys.index, keys.dlq, keys.expiry];
  const writes: ActorWrite[] = [];
  const records: string[] = [];
  const historyKeys: string[] = [];
  for (const actor of actors) {
    // The actor was created from its parsed address: its definition's type and its id (no parse per commit).
    const type = actor.def.type;
    const id = actor.id;
    scriptKeys.push(keys.actor(type, id));
    const state = actor.state;
    const retain = actor.def.options.retainDoneMs;
    const expiry = actor.done && Number.isFinite(retain) ? now + retain : false;
    // The index only changes with the state: skip the write when it stayed.
    // A large record travels as an argument of its own (see LARGE_RECORD); the entry names its argument's number.
    const record = actor.recordJson.length > LARGE_RECORD ? FIRST_RECORD_ARG + records.push(actor.recordJson) - 1 : actor.recordJson;
    const write: ActorWrite = [String(actor.version), String(actor.version + 1), record, `${type}/${id}`, state !== actor.indexedState ? state : false, expiry];
    const keep = actor.def.options.historyKeep;
    if (keep > 0) {
      historyKeys.push(keys.history(type, id));
      writes.push([...write, historyHead(actor.version + 1, now, keep, batch.causes.get(actor) ?? []), keep]);
    } else writes.push(write);
  }
  scriptKeys.push(...historyKeys);
  const remote: [string, string][] = [];
  const local: { to: ReplyTo; payload: ReplyPayload }[] = [];
  for (const r of batch.replies) {
    r.payload.q = r.to.q;
    if (r.to.n === settings.nodeId) local.push(r);
    else remote.push([replyChannel(r.to.n), r.json ?? JSON.stringify(r.payload)]);
  }
  const direct = settings.delivery === 'commit' ? batch.numberedMessages() : undefined;
  const payload = JSON.stringify(batch.payload(writes, settings.replies === 'script' ? remote : [], direct));
  if (direct) scriptKeys.push(...direct.mailboxes);
  const args = [leaseValue, settings.group, now, settings.seenHorizonMs, settings.eventsMaxLen, payload, settings.deadLettersMaxLen, ...records];
  const res = (await scripts.commitTurn.run(link, scriptKeys, args)) as [number, string?, (string | number)?];
  switch (res[0]) {
    case ScriptCode.Ok:
      return { kind: 'committed', outboxId: String(res[1] ?? ''), deadLettersTrimmed: Number(res[2] ?? 0), local, remote: settings.replies === 'script' ? [] : remote };
    case ScriptCode.NotLeaseHolder:
      return { kind: 'fenced' };
    case ScriptCode.VersionConflict:
      return { kind: 'conflict', key: String(res[1]), stored: String(res[2]) };
    case ScriptCode.Duplicate:
      return { kind: 'duplicate', id: String(res[1]) };
    case ScriptCode.NotDelivered:
      return { kind: 'not-delivered', what: String(res[1]) };
    default:
      return { kind: 'refused', what: String(res[1]) };
  }
}

/**
 * A history entry up to its record (the script appends the record and the closing brace), with the number of versions
 * its type keeps (`k`): the list holds up to a quarter more, trimmed in bulk, and readers show the newest `k`. See
 * `version-history.ts`.
 */
function historyHead(version: number, at: number, keep: number, causes: VersionCause[]): string {
  return `{"v":${version},"at":${at},"k":${keep},"c":${JSON.stringify(causes)},"r":`;
}
