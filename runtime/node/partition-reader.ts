/**
 * How a partition's owner takes entries from its mailbox and waits for more. Reads go through the fenced
 * `read-batch` script (but for the doorbell's entries, below): pending entries first (retries, a previous owner's
 * leftovers, whatever a stale owner read after losing its lease), claimed in order, then new ones; ids processed
 * before are returned as duplicates; blocked actors' entries are held back. A plain blocking XREADGROUP would be one
 * round trip cheaper, but a paused owner waking up could pull entries into its own pending list while the new owner
 * went on with later ones, breaking an actor's order; only the lease holder may move entries. Waiting is a plain XREAD (no group, so
 * it moves nothing) on the partition's own connection, after the newest entry looked at.
 *
 * New entries are read without a write once the reader knows the group's position (its cursor): the read takes them
 * by XRANGE after it, and the batch's commit delivers them to the group as it acks them. Under `appendfsync always` a
 * write waits for the disk before Redis answers, so this takes one fsync off every hop. The cursor is known only
 * from this owner's own group read or a commit that delivered what it read; anything else — a takeover, a commit
 * that did not commit or whose reply was lost, a batch that did not reach its commit — leaves it unknown, and the
 * next read goes through the group again.
 *
 * And when the group has nothing pending as far as this owner knows (its last read found no pending entry and the
 * commit after it acked everything it took), the doorbell's own XREAD brings the new entries — up to a batch — and
 * they stand for the next read: no read script at all between a wake and its commit. What that read would have
 * checked, the commit checks: the lease (a stale owner's commit is fenced), messages processed before (the commit
 * refuses the batch, writing nothing, and the next read goes through the group, which answers them as duplicates),
 * the group's position; and entries of an actor waiting for a retry are never taken this way.
 *
 * A batch that took everything there was sends the doorbell's next read with its commit (`arm`), not after the
 * commit's answer: Redis takes both in one wake, where it used to wake again for the read a moment after answering
 * the commit. The read is for entries after the newest looked at, whatever the commit's outcome; what it brings stands
 * for the next read only if the commit left the reader where the read assumed — else it is only a wake.
 */
import type { PartitionKeys } from '../keys.ts';
import { hashReply, streamReadReply, type RedisLink } from '../redis/link.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import { compareStreamIds, type UndeliveredRange } from './batch.ts';

export type RawEntry = [id: string, fields: string[], deliveries: number];
/** A read's entries; `undelivered` when it took new entries by cursor, which the batch's commit must deliver. */
export type ReadResult = {
  raw: RawEntry[];
  dups: [id: string, fields: string[]][];
  undelivered?: UndeliveredRange;
  /** The doorbell brought these: no read checked them against the processed set (the commit must). */
  unchecked?: true;
};

export type ReaderContext = {
  link: RedisLink;
  openDoorbell(): Promise<RedisLink>;
  group: string;
  consumer: string;
  batchSize: number;
};

export class PartitionReader {
  private doorbell: RedisLink | null = null;
  /** The newest mailbox entry id looked at; the doorbell waits for anything after it. */
  private lastSeen: string | null = null;
  /** Whether the last read looked at every pending entry (else new entries were not read, and waiting for them is pointless). */
  private complete = true;
  /** After the commit script refused a batch: read one entry at a time for this many reads, to find the culprit. */
  private isolate = 0;
  /** The last read returned fewer entries than it asked for. */
  private short = false;
  /** The group's last delivered id, when this owner knows it (see the header); null: read through the group. */
  private cursor: string | null = null;
  /** New entries the last read took by cursor, until `delivered` says a commit delivered them. */
  private owed: UndeliveredRange | null = null;
  /** Whether the group has nothing pending, as far as this owner knows (see the header). */
  private nothingPending = false;
  /** What the doorbell brought, to stand for the next read (see the header). */
  private rung: RawEntry[] | null = null;
  /** The doorbell's read sent with a commit (`arm`), until a `wait` takes its answer. */
  private armed: Armed | null = null;

  constructor(
    private readonly ctx: ReaderContext,
    private readonly keys: PartitionKeys,
    private readonly leaseValue: string,
  ) {}

  /** The next entries, or 'fenced' when another node holds the lease now. */
  async read(blocked: readonly string[]): Promise<ReadResult | 'fenced'> {
    const count = this.isolate > 0 ? 1 : this.ctx.batchSize;
    if (this.isolate > 0) this.isolate--;
    // Entries taken by cursor that no commit delivered: whether the group moved past them is unknown.
    if (this.owed) {
      this.cursor = this.owed = null;
      this.nothingPending = false;
    }
    const rung = this.rung;
    this.rung = null;
    if (rung?.length && this.cursor !== null && this.nothingPending && blocked.length === 0 && count > 1) return this.took(rung, this.cursor, count);
    const res = (await scripts.readBatch.run(
      this.ctx.link,
      [this.keys.lease, this.keys.mbox, this.keys.seen],
      [this.leaseValue, this.ctx.group, this.ctx.consumer, count, this.cursor ?? '', ...blocked],
    )) as [number, string, string, number, string, number, string, number, number];
    if (res[0] === ScriptCode.NotLeaseHolder) return 'fenced';
    // The script read through the group when the cursor was not where the group stands.
    if (Number(res[8]) !== 1) this.cursor = null;
    const cursor = this.cursor;
    this.complete = Number(res[3]) === 1;
    if (res[4]) this.lastSeen = maxId(res[4], this.lastSeen);
    const got: ReadResult = { raw: jsonList<RawEntry>(res[1]), dups: jsonList<[string, string[]]>(res[2]) };
    // Through the group, new entries became pending; by cursor they did not.
    this.nothingPending = cursor !== null && this.complete && Number(res[7] ?? 1) === 0;
    const fresh = Number(res[5] ?? 0);
    if (fresh > 0) {
      // With a cursor the new entries run from `first` to `last`, undelivered; through the group they were delivered.
      if (cursor === null) this.cursor = res[4];
      else got.undelivered = this.owed = [this.ctx.consumer, fresh, res[6], res[4], cursor];
    }
    this.short = got.raw.length + got.dups.length < count;
    return got;
  }

  /** New entries the doorbell brought, taken as a read by cursor would have taken them. */
  private took(entries: RawEntry[], cursor: string, count: number): ReadResult {
    const last = entries[entries.length - 1]![0];
    this.lastSeen = last;
    this.complete = true;
    this.short = entries.length < count;
    const undelivered: UndeliveredRange = (this.owed = [this.ctx.consumer, entries.length, entries[0]![0], last, cursor]);
    return { raw: entries, dups: [], undelivered, unchecked: true };
  }

  /**
   * The batch's commit delivered the entries the last read took by cursor: the group is at the newest of them, and
   * has nothing pending still when the commit acked them all.
   */
  delivered(allAcked: boolean): void {
    if (!this.owed) return;
    this.cursor = this.owed[3];
    this.owed = null;
    if (!allAcked) this.nothingPending = false;
  }

  /**
   * Whether the last read took everything there was: it looked at every pending entry and got fewer entries than it
   * asked for, so the next one is new (newer than `lastSeen`) — what `wait` watches for. Entries the batch then left
   * pending (an actor's messages held back behind one that failed) are not new: the caller reads again after such a
   * batch rather than wait.
   */
  get drained(): boolean {
    return this.complete && this.short && this.isolate === 0;
  }

  /**
   * Sends the doorbell's next read now, beside the commit of a batch that took everything there was (`drained`),
   * blocking up to `ms`; the `wait` after the commit takes its answer instead of sending one. Only when the doorbell
   * is open and no read of it is in flight.
   */
  arm(ms: number): void {
    const bell = this.doorbell;
    if (!bell || this.armed || !this.drained || this.lastSeen === null) return;
    const after = this.lastSeen;
    // Whether what it brings can stand for the next read, as `wait` would decide once the commit delivered what the read
    // took by cursor (checked again when the answer is taken).
    const direct = this.nothingPending && (this.owed ? this.owed[3] === after : this.cursor === after);
    const armed = { after, direct, settled: false } as Armed;
    armed.answer = bell.call(['XREAD', 'COUNT', direct ? this.ctx.batchSize : 1, 'BLOCK', ms, 'STREAMS', this.keys.mbox, after]).then(
      (reply) => {
        armed.settled = true;
        return { reply };
      },
      (error: unknown) => {
        armed.settled = true;
        return { error };
      },
    );
    this.armed = armed;
  }

  /** Reads the next `reads` batches one entry at a time. */
  isolateNext(reads: number): void {
    this.isolate = Math.max(this.isolate, reads);
  }

  /**
   * Waits up to `ms` for a new entry. When the last read could not look at every pending entry, new entries are
   * beside the point: it just sleeps (until the next retry, which the caller's `ms` accounts for).
   */
  async wait(ms: number, active: () => boolean): Promise<void> {
    if (!this.complete) {
      await Bun.sleep(ms);
      return;
    }
    if (!this.doorbell) this.doorbell = await this.ctx.openDoorbell();
    if (this.lastSeen === null) this.lastSeen = await this.lastDelivered();
    const armed = this.armed;
    if (armed) {
      if (armed.after === this.lastSeen) return this.waitArmed(armed, ms, active);
      // Sent for entries older than the newest looked at since (a read took them): it has answered, or does at once, as
      // those entries are there. It is only a wake: drop it, and its connection if it still blocks (a takeover, which
      // starts over further back, drops it in `reset`).
      this.armed = null;
      if (!armed.settled) {
        this.dropDoorbell();
        this.doorbell = await this.ctx.openDoorbell();
      }
    }
    const bell = this.doorbell;
    if (!active() || !bell) return;
    // The doorbell's entries can stand for the next read only when they follow the group's position directly.
    const direct = this.nothingPending && this.owed === null && this.lastSeen === this.cursor && this.isolate === 0;
    try {
      const reply = await bell.call(['XREAD', 'COUNT', direct ? this.ctx.batchSize : 1, 'BLOCK', ms, 'STREAMS', this.keys.mbox, this.lastSeen]);
      if (direct && active()) this.rung = rungEntries(reply);
    } catch (error) {
      if (active()) throw error;
    }
  }

  /** Waits up to `ms` for the answer of the read `arm` sent; one still blocking when `ms` ends stays armed. */
  private async waitArmed(armed: Armed, ms: number, active: () => boolean): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([armed.answer, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
    clearTimeout(timer);
    if (answer === null) return;
    this.armed = null;
    if ('error' in answer) {
      if (active()) throw answer.error;
      return;
    }
    // What it brought follows the group's position directly only if the commit left the reader where `arm` assumed.
    const direct = armed.direct && this.nothingPending && this.owed === null && this.cursor === armed.after && this.isolate === 0;
    if (direct && active()) this.rung = rungEntries(answer.reply);
  }

  /**
   * Forgets where it was (a takeover starts from the group's last delivered id) — the doorbell read `arm` sent too:
   * what it brings was asked for before the takeover, and one still blocking takes its connection with it.
   */
  reset(): void {
    if (this.armed && !this.armed.settled) this.dropDoorbell();
    this.armed = null;
    this.cursor = this.owed = this.rung = null;
    this.nothingPending = false;
    this.lastSeen = null;
    this.complete = true;
    this.short = false;
  }

  /** Closes the doorbell connection, ending a wait in flight. */
  close(): void {
    this.armed = null;
    this.dropDoorbell();
  }

  /** Aborts the doorbell's connection; the next wait opens another (forgotten first, so a failed reopen is retried). */
  private dropDoorbell(): void {
    const bell = this.doorbell;
    this.doorbell = null;
    bell?.abort();
  }

  /** The group's last delivered id (once, when this owner has read nothing yet). */
  private async lastDelivered(): Promise<string> {
    const groups = (await this.ctx.link.call(['XINFO', 'GROUPS', this.keys.mbox])) as unknown[];
    for (const g of groups) {
      const rec = Array.isArray(g) ? fieldsToMap(g as string[]) : (g as Record<string, unknown>);
      if (rec.name === this.ctx.group) return String(rec['last-delivered-id'] ?? '0-0');
    }
    return '0-0';
  }
}

/** A doorbell read sent with a commit: for entries after `after`; `direct`, asked for up to a batch. */
type Armed = { after: string; direct: boolean; settled: boolean; answer: Promise<{ reply: unknown } | { error: unknown }> };

/** The entries of a doorbell's XREAD reply, as a read returns new ones (a first delivery each). */
function rungEntries(reply: unknown): RawEntry[] {
  const out: RawEntry[] = [];
  for (const [, entries] of streamReadReply(reply)) {
    for (const [id, fields] of entries) {
      // An entry without its fields (deleted meanwhile) is not one to take as read: the script reads instead.
      if (!fields) return [];
      const flat = Array.isArray(fields) ? fields.map(String) : Object.entries(hashReply(fields)).flat();
      out.push([String(id), flat, 1]);
    }
  }
  return out;
}

/** A list the read script JSON-encoded (Lua's cjson writes an empty list as `{}`). */
export function jsonList<T>(json: string): T[] {
  const value = JSON.parse(json) as unknown;
  return Array.isArray(value) ? (value as T[]) : [];
}

/** The newer of two stream ids, compared as numbers (`"1-10"` is newer than `"1-9"`). */
function maxId(a: string, b: string | null): string {
  return b === null || compareStreamIds(a, b) > 0 ? a : b;
}

function fieldsToMap(flat: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1];
  return out;
}
