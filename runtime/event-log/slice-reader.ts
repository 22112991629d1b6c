/**
 * One slice of the event log as one subscriber group reads it: its own XREADGROUP (one key per command), its
 * events handed to the handler one at a time, in order. A failed event is retried with backoff before any later
 * event of the slice (so an aggregate's events, which share a slice, stay in order), and after `maxAttempts` it goes
 * to the group's dead letters with its error and the slice moves on. Entries trimmed before the group saw them
 * become gap notices, handed on like events.
 */
import type { Clock } from '../clock.ts';
import { partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { scripts } from '../redis/script.ts';
import type { SliceDoorbell } from './doorbell.ts';
import { gapNotice, toEvent, type DomainEvent, type GapNotice } from './domain-event.ts';

/** What every slice of one subscription shares. */
export type SliceContext = {
  link: RedisLink;
  prefix: string;
  service: string;
  group: string;
  consumer: string;
  handler: (event: DomainEvent) => void | Promise<void>;
  maxAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  batch: number;
  clock: Clock;
  doorbell: SliceDoorbell;
  ensureGroup(stream: string): Promise<void>;
  gap(notice: GapNotice): void;
  retry(event: DomainEvent, attempt: number, delayMs: number, error: unknown): void;
  deadLetter(event: DomainEvent, partition: number, error: unknown, attempts: number): void;
  error(error: unknown, event?: DomainEvent): void;
  stopped(): boolean;
  /** Waits `ms`, or less if the subscription stops. */
  sleep(ms: number): Promise<void>;
};

type StoredGap = { missed: number; after: string; before: string };
type SliceRead = { gaps: string[]; first: string; last: string; entries: [string, string[] | null][] };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class SliceReader {
  delivered = 0;
  private readonly keys;
  /** The last entry this reader acked: where a gap among pending entries starts. */
  private lastAcked: string | null = null;

  constructor(
    private readonly ctx: SliceContext,
    readonly partition: number,
  ) {
    this.keys = partitionKeys(ctx.prefix, ctx.service, partition);
  }

  get stream(): string {
    return this.keys.events;
  }

  async run(): Promise<void> {
    // First this consumer's own pending entries (delivered before a crash, never acked), then new ones.
    let mode: '0' | '>' = '0';
    while (!this.ctx.stopped()) {
      try {
        const read = await this.read(mode);
        if (!read) {
          await this.ctx.ensureGroup(this.keys.events);
          continue;
        }
        for (const json of read.gaps) {
          if (!(await this.handOnStoredGap(json))) return;
        }
        if (!(await this.handOn(read))) return;
        if (read.entries.length === 0) {
          if (mode === '0') mode = '>';
          else if (read.gaps.length === 0) await this.ctx.doorbell.wait(this.partition, read.last);
        }
      } catch (error) {
        if (this.ctx.stopped()) return;
        this.ctx.error(error);
        // Entries read but not acked are pending on this consumer: read them again first.
        mode = '0';
        await this.ctx.sleep(200);
      }
    }
  }

  private async read(mode: '0' | '>'): Promise<SliceRead | null> {
    const { group, consumer, batch } = this.ctx;
    const reply = (await scripts.readSlice.run(this.ctx.link, [this.keys.events, this.keys.eventGaps(group)], [group, consumer, batch, mode])) as unknown[];
    if (reply[0] === -2) return null;
    const [gaps, first, last, entries] = reply as [string[], string, string, [string, string[] | null][]];
    return { gaps: gaps ?? [], first, last, entries: entries ?? [] };
  }

  /** Hands on a read's entries in order; false if the subscription stopped first. */
  private async handOn(read: SliceRead): Promise<boolean> {
    let trimmed: string[] = [];
    let before: string | null = null;
    const flushTrimmed = async () => {
      if (trimmed.length === 0) return true;
      const notice = this.notice(trimmed.length, this.lastAcked, before ?? (read.first || null), 'trimmed-pending');
      if (!(await this.deliver(notice))) return false;
      await this.ctx.link.call(['XACK', this.keys.events, this.ctx.group, ...trimmed]);
      this.lastAcked = trimmed[trimmed.length - 1]!;
      trimmed = [];
      return true;
    };
    for (const [id, fields] of read.entries) {
      if (this.ctx.stopped()) return false;
      if (!fields) {
        trimmed.push(id);
        continue;
      }
      before = id;
      if (!(await flushTrimmed())) return false;
      if (!(await this.deliver(toEvent(this.partition, id, fields), id))) return false;
    }
    before = null;
    return flushTrimmed();
  }

  private async handOnStoredGap(json: string): Promise<boolean> {
    const gap = JSON.parse(json) as StoredGap;
    const notice = this.notice(gap.missed < 0 ? null : gap.missed, gap.after || null, gap.before || null, 'trimmed-unread');
    if (!(await this.deliver(notice))) return false;
    await this.ctx.link.call(['LREM', this.keys.eventGaps(this.ctx.group), 1, json]);
    return true;
  }

  private notice(missed: number | null, after: string | null, before: string | null, reason: GapNotice['reason']): GapNotice {
    const { service, group } = this.ctx;
    const notice = gapNotice({ at: this.ctx.clock.now(), service, group, partition: this.partition, missed, after, before, reason });
    this.ctx.gap(notice);
    return notice;
  }

  /**
   * Hands one event to the handler until it succeeds or has failed `maxAttempts` times (then dead-letters it), and
   * acks its entry (`id`; gap notices have none). False if the subscription stopped first: the entry stays pending.
   */
  private async deliver(event: DomainEvent, id?: string): Promise<boolean> {
    const { handler, maxAttempts, retryDelayMs, maxRetryDelayMs } = this.ctx;
    for (let attempt = 1; ; attempt++) {
      if (this.ctx.stopped()) return false;
      try {
        await handler(event);
        if (id) this.delivered++;
        break;
      } catch (error) {
        this.ctx.error(error, event);
        if (attempt >= maxAttempts) {
          await this.deadLetter(event, id, error, attempt);
          break;
        }
        const delayMs = Math.min(retryDelayMs * 2 ** (attempt - 1), maxRetryDelayMs);
        this.ctx.retry(event, attempt + 1, delayMs, error);
        await this.ctx.sleep(delayMs);
      }
    }
    if (id) {
      await this.ctx.link.call(['XACK', this.keys.events, this.ctx.group, id]);
      this.lastAcked = id;
    }
    return true;
  }

  private async deadLetter(event: DomainEvent, id: string | undefined, error: unknown, attempts: number): Promise<void> {
    const { group, consumer } = this.ctx;
    await this.ctx.link.call([
      'XADD', this.keys.eventDeadLetters(group), 'MAXLEN', '~', 100_000, '*',
      'e', JSON.stringify(event), 'error', messageOf(error), 'attempts', attempts, 'group', group, 'consumer', consumer,
      'entry', id ?? '', 'at', this.ctx.clock.now(),
    ]);
    this.ctx.deadLetter(event, this.partition, error, attempts);
  }
}
