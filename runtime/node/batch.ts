/**
 * What one batch of a partition will commit, gathered turn by turn, and the commit script's argument built from
 * it (`commit-turn-12.lua` documents every field). A turn's output is encoded inside its step (see
 * `turn-output.ts`), so by the time it joins a batch it is known to be storable.
 */
import type { ActorStepError, HostedActor } from '../actor/hosted-actor.ts';
import type { InspectionEvent } from '../inspection.ts';
import type { EffectRecord } from './effect-runner.ts';
import type { Envelope, ReplyTo } from './envelope.ts';

/** What an asker gets back: the actor's state after the turn that processed its message. */
export type ReplyPayload = {
  q: string;
  ok: boolean;
  state?: string;
  context?: unknown;
  reply?: unknown;
  handled?: boolean;
  duplicate?: boolean;
  error?: string;
};

/** A message to relay once the batch committed: its target mailbox and its entry's fields. */
export type OutMsg = { mbox: string; fields: string[] };

/** One successful turn, encoded. */
export type TurnOutput = {
  outbox: OutMsg[];
  events: string[];
  /** member (`address|timer id`) → [due, data], or null to delete */
  timers: [member: string, value: [due: number, data: string] | null][];
  effectsSet: [record: EffectRecord, json: string][];
  effectsDel: string[];
  inspections: InspectionEvent[];
  reply?: { to: ReplyTo; payload: ReplyPayload; json?: string };
};

/**
 * One actor's write: [expected version, new version, record JSON (or the number of the script argument holding it),
 * index field, new state or false, expiry or false],
 * then, when its type keeps a history, the history entry's head and how many entries to keep.
 */
export type ActorWrite =
  | [expected: string, next: string, record: string | number, field: string, state: string | false, expiry: number | false]
  | [expected: string, next: string, record: string | number, field: string, state: string | false, expiry: number | false, historyHead: string, keep: number];

/** A message that made a version: its id, event type and sender (an actor's address, when an actor sent it). */
export type VersionCause = { id: string; type: string; from?: string; kind?: string };

/** A batch's messages numbered by target mailbox, for a commit that appends them itself (see `Batch.numberedMessages`). */
export type DirectMessages = { mailboxes: string[]; messages: (number | string)[][] };

/** The commit script's batch argument. */
export type CommitPayload = {
  a: string[];
  s: string[];
  /** Message ids checked like `s` but not marked processed (see `Batch.unchecked`). */
  ns?: string[];
  x: ActorWrite[];
  o?: string;
  /** Messages the commit delivers itself: [n, field, value, …] for the n-th of the `mk` mailbox keys. */
  m?: (number | string)[][];
  mk?: number;
  e: string[];
  ts: [member: string, due: number, data: string][];
  td: string[];
  fs: [key: string, data: string][];
  fd: string[];
  tr: string[];
  dl: string[][];
  r: [channel: string, payload: string][];
  /** New entries the read took without delivering them, which the commit delivers, and whether it acks them all. */
  g?: [...UndeliveredRange, allAcked: boolean];
};

/**
 * New entries a read took by cursor (`read-batch-3.lua`: an XRANGE that writes nothing) and the group has not
 * delivered yet: [consumer, how many, first id, last id, the cursor they follow]. The batch's commit delivers them.
 */
export type UndeliveredRange = [consumer: string, count: number, first: string, last: string, cursor: string];

export class Batch {
  acks: string[] = [];
  seen: string[] = [];
  seenInBatch = new Set<string>();
  dirty = new Set<HostedActor>();
  /** The messages each changed actor applied in this batch, in order: what made its next version. */
  causes = new Map<HostedActor, VersionCause[]>();
  outbox: OutMsg[] = [];
  events: string[] = [];
  timers = new Map<string, [due: number, data: string] | null>();
  effectsSet: EffectRecord[] = [];
  effectsJson: [key: string, data: string][] = [];
  effectsDel: string[] = [];
  triesDel: string[] = [];
  deadLetters: string[][] = [];
  replies: { to: ReplyTo; payload: ReplyPayload; json?: string }[] = [];
  inspections: InspectionEvent[] = [];
  received: Envelope[] = [];
  blocked = new Set<string>();
  failures: { env: Envelope; error: ActorStepError }[] = [];
  /** Actors whose stored record could not be restored, with why. */
  unreadable = new Map<string, unknown>();
  /** The earliest due time of a timer the batch arms (Infinity when none). */
  earliestTimer = Infinity;
  /** Messages to this partition's own actors that were applied in this batch (`BatchApplier.applyLocal`), not sent. */
  appliedLocally = 0;
  /** Chaos: extra latency before this batch commits, and copies of entries to deliver again. */
  delayMs = 0;
  copies: string[][] = [];
  /** New entries the read took without delivering them: this batch's commit delivers them. */
  undelivered: UndeliveredRange | undefined;
  /**
   * Message ids no read checked against the processed set (the doorbell brought them) that the batch does not mark
   * processed — failed, held back, dead-lettered, dropped: the commit checks them too, so a repeat is never taken for new.
   */
  unchecked: string[] = [];
  /** `acksAllUndelivered`'s answer and the number of acks it was counted on (asked before the commit and after it). */
  private ackedAll: { acks: number; all: boolean } | undefined;

  /** Adds one successful turn, made by the message `cause` describes. */
  add(actor: HostedActor, turn: TurnOutput, cause: VersionCause): void {
    this.dirty.add(actor);
    const causes = this.causes.get(actor);
    if (causes) causes.push(cause);
    else this.causes.set(actor, [cause]);
    for (const m of turn.outbox) this.outbox.push(m);
    for (const e of turn.events) this.events.push(e);
    for (const [member, value] of turn.timers) this.timers.set(member, value);
    for (const [fx, json] of turn.effectsSet) {
      this.effectsSet.push(fx);
      this.effectsJson.push([fx.key, json]);
    }
    for (const key of turn.effectsDel) this.effectsDel.push(key);
    for (const ev of turn.inspections) this.inspections.push(ev);
    if (turn.reply) this.replies.push(turn.reply);
  }

  /**
   * The batch's messages as the commit script appends them itself: the distinct target mailboxes (keys it is given,
   * in order) and each message as [its mailbox's number, from 1, field, value, …], in the order they were sent.
   */
  numberedMessages(): DirectMessages {
    const mailboxes: string[] = [];
    const numberOf = new Map<string, number>();
    const messages = this.outbox.map(({ mbox, fields }) => {
      let n = numberOf.get(mbox);
      if (n === undefined) numberOf.set(mbox, (n = mailboxes.push(mbox)));
      return [n, ...fields];
    });
    return { mailboxes, messages };
  }

  /**
   * The script's argument; `actors` in the order of their record keys, `remote` the replies to publish, and `direct`
   * the messages when the commit delivers them itself (else they go to the outbox, for the relay).
   */
  payload(actors: ActorWrite[], remote: [string, string][], direct?: DirectMessages): CommitPayload {
    const ts: [string, number, string][] = [];
    const td: string[] = [];
    for (const [member, v] of this.timers) {
      if (v) ts.push([member, v[0], v[1]]);
      else td.push(member);
    }
    const { acks, g } = this.delivery();
    return {
      a: acks,
      s: this.seen,
      ...(this.unchecked.length ? { ns: this.unchecked } : {}),
      x: actors,
      o: this.outbox.length && !direct ? JSON.stringify(this.outbox) : undefined,
      ...(direct?.messages.length ? { m: direct.messages, mk: direct.mailboxes.length } : {}),
      e: this.events,
      ts,
      td,
      fs: this.effectsJson,
      fd: this.effectsDel,
      tr: this.triesDel,
      dl: this.deadLetters,
      r: remote,
      ...(g ? { g } : {}),
    };
  }

  /**
   * How the commit delivers the new entries the read took by cursor: when it acks every one of them, the group's
   * position just moves past them (their ids leave the acks: they were never pending); else they go through the
   * pending list, and the acks stay as they are.
   */
  private delivery(): { acks: string[]; g?: CommitPayload['g'] } {
    const range = this.undelivered;
    if (!range) return { acks: this.acks };
    if (!this.acksAllUndelivered()) return { acks: this.acks, g: [...range, false] };
    return { acks: this.acks.filter((id) => compareStreamIds(id, range[2]) < 0), g: [...range, true] };
  }

  /**
   * Whether the batch acks every new entry its read took by cursor (false when there are none): as many distinct acks
   * from the first of them on as the read took — an entry acked twice must not stand for one never acked.
   */
  acksAllUndelivered(): boolean {
    const range = this.undelivered;
    if (!range) return false;
    if (this.ackedAll?.acks === this.acks.length) return this.ackedAll.all;
    this.ackedAll = { acks: this.acks.length, all: distinctFrom(this.acks, range[2]) === range[1] };
    return this.ackedAll.all;
  }
}

/**
 * How many distinct ids of `ids` are `first` or newer. A batch acks in the order it read, so the ids are counted as
 * they come while each is newer than the one before; a set is built only for ids out of that order.
 */
function distinctFrom(ids: readonly string[], first: string): number {
  let count = 0;
  let last: string | undefined;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (compareStreamIds(id, first) < 0) continue;
    if (last !== undefined && compareStreamIds(id, last) <= 0) {
      const seen = new Set<string>();
      for (const other of ids) if (compareStreamIds(other, first) >= 0) seen.add(other);
      return seen.size;
    }
    last = id;
    count++;
  }
  return count;
}

/**
 * Orders two stream ids as Redis does (by milliseconds, then sequence): negative when `a` is older. Compared digit by
 * digit, without parsing: Redis writes both parts without leading zeros, so the longer part is the larger number.
 */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  if (da !== db) return da - db;
  for (let i = 0; i < da; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  if (a.length !== b.length) return a.length - b.length;
  for (let i = da + 1; i < a.length; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 0;
}
