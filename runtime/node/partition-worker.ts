/**
 * The loop that owns one partition while this node holds its lease: read a batch (pending entries first, fenced
 * by the lease), run every message through its actor, and commit the whole batch in one Lua call — snapshots,
 * acks, processed markers, outgoing messages (into their mailboxes on one Redis, else into the outbox), events,
 * timers, effects, dead letters and replies. After the commit it relays what went into the outbox, starts effects
 * and answers local asks.
 *
 * Its lifecycle is explicit: `taking-over` (create the group, re-run recorded effects, sweep the outbox, re-arm
 * timers) → `running`; any failure whose outcome is unknown (a lost reply, a reset link) goes back to
 * `taking-over`, because the commit may have happened; `lost` (fenced by a newer lease holder) and `stopping` end
 * the loop, and a worker that left `running` makes no further Redis call. Any throw while handling a message counts
 * against that message and ends in a dead letter after `maxDeliveries`; the partition never stalls on it.
 */
import type { PartitionKeys } from '../keys.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import { Batch, compareStreamIds, type ReplyPayload } from './batch.ts';
import { BatchApplier } from './batch-applier.ts';
import { commitBatch } from './batch-commit.ts';
import { addDeadLetter } from './dead-letter.ts';
import type { EffectRecord } from './effect-runner.ts';
import { envelopeFields, LOCAL_STREAM_ID, parseEntry, preciseNow, type Envelope } from './envelope.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { workerMetrics, type WorkerMetrics } from '../observe/metrics.ts';
import { KnownActors } from './known-actors.ts';
import { PartitionActors } from './partition-actors.ts';
import { PartitionReader } from './partition-reader.ts';
import { RetrySchedule } from './retry-schedule.ts';
import { answerOf } from './turn-output.ts';
import type { WorkerContext } from './worker-context.ts';

export type { ReplyPayload } from './batch.ts';
export type { WorkerContext, WorkerSettings } from './worker-context.ts';

export type WorkerPhase = 'taking-over' | 'running' | 'lost' | 'stopping' | 'stopped';

const EXPIRY_PAGE = 100;

export class PartitionWorker {
  private readonly actors: PartitionActors;
  private readonly known: KnownActors;
  private readonly reader: PartitionReader;
  private readonly relay: OutboxRelay;
  private phase: WorkerPhase = 'taking-over';
  private loop: Promise<void> | null = null;
  private nextTimerDue = 0;
  private readonly retries = new RetrySchedule();
  private readonly applier: BatchApplier;
  private readonly place: { service: string; partition: number };
  private housekeepingDue = false;
  private readonly metrics: WorkerMetrics;
  processed = 0;
  /** Messages this partition's actors sent, by target service (for the panel's message rates). */
  readonly sentTo = new Map<string, number>();

  constructor(
    private readonly ctx: WorkerContext,
    readonly partition: number,
    readonly keys: PartitionKeys,
    readonly leaseValue: string,
    private readonly onLost: (worker: PartitionWorker) => void,
  ) {
    this.known = new KnownActors(ctx.link, keys.index, (error) => ctx.onError(error, `scanning the actor index of partition ${partition} (every actor is read until a scan goes through; it is tried again shortly)`));
    this.actors = new PartitionActors({ service: ctx.service, partition, keys, defs: ctx.defs, router: ctx.router, link: ctx.link, inspect: (e) => ctx.inspect(e), clock: ctx.clock, known: this.known });
    this.reader = new PartitionReader({ link: ctx.link, openDoorbell: ctx.openDoorbell, group: ctx.group, consumer: ctx.nodeId, batchSize: ctx.settings.batchSize }, keys, leaseValue);
    this.place = { service: ctx.service, partition };
    this.metrics = workerMetrics(ctx.service);
    this.applier = new BatchApplier(ctx, this.place, keys, leaseValue, this.actors, this.retries, this.metrics);
    this.relay = new OutboxRelay(ctx.link, keys.outbox, () => this.active, (error) => ctx.onError(error, `relaying from partition ${partition}`), ctx.replicaWait);
  }

  get state(): WorkerPhase {
    return this.phase;
  }

  /** Whether the worker may still touch its partition (it holds the lease as far as it knows). */
  get active(): boolean {
    return this.phase === 'taking-over' || this.phase === 'running';
  }

  get cachedActors(): number {
    return this.actors.size;
  }

  start(): void {
    this.loop = this.run().catch((error) => this.ctx.onError(error, `partition ${this.partition} loop`));
  }

  /** Stops after the batch in flight (or at once when the lease was lost); the caller releases the lease afterwards. */
  async stop(): Promise<void> {
    if (this.active) this.phase = 'stopping';
    this.reader.close();
    await this.loop;
    await this.relay.settled();
    this.actors.clear();
    this.ctx.effects.abortOwnedBy(this);
    this.phase = 'stopped';
  }

  /** Drops mailbox entries no longer needed (below the oldest pending one); run on the lease tick. */
  async trim(): Promise<number> {
    if (!this.active) return 0;
    return Number(await scripts.trimMailbox.run(this.ctx.link, [this.keys.mbox], [this.ctx.group]));
  }

  /** Asks the loop to evict idle actors and remove expired finished ones, between two batches. */
  requestPassivation(): void {
    this.housekeepingDue = true;
  }

  private markLost(): void {
    if (!this.active) return;
    this.phase = 'lost';
    this.reader.close();
    this.actors.clear();
    this.ctx.effects.abortOwnedBy(this);
    this.onLost(this);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.active) {
      try {
        if (this.phase === 'taking-over') {
          await this.takeOver();
          if (!this.active) break;
          this.phase = 'running';
        }
        const now = this.ctx.clock.now();
        if (this.ctx.chaos.paused(this.ctx.service)) {
          // A pause rule (chaos): stop reading until it expires; the lease keeps being renewed meanwhile.
          await Bun.sleep(100);
          continue;
        }
        if (this.housekeepingDue) await this.housekeep(now);
        if (this.active && this.nextTimerDue !== -1 && now >= this.nextTimerDue) await this.fireTimers(now);
        // The whole outbox, page after page, before the next commit: a commit that delivers its messages itself
        // would otherwise put them ahead of older ones still waiting there (a relaying owner's, before a takeover).
        while (this.active && this.relay.dirty) await this.relay.sweep();
        if (!this.active) break;
        const round = await this.processBatch();
        failures = 0;
        // After a batch that took all there was, wait for the next entry rather than read again: the doorbell
        // answers at once when one came meanwhile, and an empty read costs a script call per turn.
        const waitNow = round === 'idle' || (round === 'caught-up' && !this.relay.dirty && !this.housekeepingDue);
        if (waitNow && this.active) await this.reader.wait(this.blockMs(this.ctx.clock.now()), () => this.active);
      } catch (error) {
        if (!this.active) break;
        this.ctx.onError(error, `partition ${this.partition}`);
        // The last call's outcome is unknown (a commit may have happened without its reply): start over as a new
        // owner would — rebuild actors from Redis, re-run recorded effects, sweep the outbox, re-arm timers.
        this.actors.clear();
        this.phase = 'taking-over';
        await Bun.sleep(Math.min(1_000, 50 * 2 ** Math.min(failures++, 5)));
      }
    }
    this.reader.close();
  }

  /**
   * What a new owner does first: make sure the mailbox has its consumer group, re-run recorded effects, and have
   * the outbox swept and the timers checked. Safe to repeat (an effect still running here is not launched twice).
   */
  private async takeOver(): Promise<void> {
    try {
      await this.ctx.link.call(['XGROUP', 'CREATE', this.keys.mbox, this.ctx.group, '0', 'MKSTREAM']);
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    const all = (await this.ctx.link.call(['HGETALL', this.keys.effects])) as Record<string, string> | string[] | null;
    if (!this.active) return;
    const pairs = Array.isArray(all) ? pairsOf(all) : Object.entries(all ?? {});
    // What this partition holds may include commits no replica confirmed (this worker's own, whose wait failed, or a
    // previous owner's): nothing read from it leaves — effects, the outbox, replies — until a replica has it all.
    if (this.ctx.replicaWait) await this.ctx.replicaWait.confirmAll(this.keys.fence, `taking partition ${this.partition} over`);
    if (!this.active) return;
    for (const [, json] of pairs) {
      try {
        this.ctx.effects.launch(JSON.parse(json) as EffectRecord, this);
      } catch (error) {
        this.ctx.onError(error, `relaunching an effect of partition ${this.partition}`);
      }
    }
    this.relay.dirty = true;
    this.nextTimerDue = 0;
    this.reader.reset();
    // Which actors exist, learnt once per owner in the background (each is read meanwhile): see known-actors.ts.
    void this.known.scan(() => this.active);
  }

  private async housekeep(now: number): Promise<void> {
    this.housekeepingDue = false;
    this.actors.passivate(now);
    await this.expireDone(this.ctx.clock.now());
  }

  /** Removes finished actors whose retention ran out (their type's `retainDoneMs`). */
  private async expireDone(now: number): Promise<void> {
    const due = (await this.ctx.link.call(['ZRANGEBYSCORE', this.keys.expiry, '-inf', now, 'LIMIT', 0, EXPIRY_PAGE])) as string[];
    if (!due.length || !this.active) return;
    const recordKeys = due.map((field) => {
      const slash = field.indexOf('/');
      return this.keys.actor(field.slice(0, slash), field.slice(slash + 1));
    });
    const res = await scripts.expireActors.run(this.ctx.link, [this.keys.lease, this.keys.expiry, this.keys.index, ...recordKeys], [this.leaseValue, now, ...due]);
    if (Number(res) === ScriptCode.NotLeaseHolder) return this.markLost();
    for (const field of due) this.actors.evict(`${this.ctx.service}/${field}`);
  }

  private async fireTimers(now: number): Promise<void> {
    const res = (await scripts.fireTimers.run(
      this.ctx.link,
      [this.keys.lease, this.keys.timers, this.keys.timerData, this.keys.mbox],
      [this.leaseValue, Math.floor(now), 200],
    )) as [number, string];
    if (res[0] === ScriptCode.NotLeaseHolder) return this.markLost();
    this.nextTimerDue = res[1] === '' ? -1 : Number(res[1]);
    if (res[0] === 200) this.nextTimerDue = now;
  }

  /** How long a wait may last: until the next timer or retry falls due, at most `idleBlockMs`. */
  private blockMs(now: number): number {
    let until = now + this.ctx.settings.idleBlockMs;
    if (this.nextTimerDue !== -1) until = Math.min(until, this.nextTimerDue);
    until = Math.min(until, this.retries.nextDue());
    return Math.max(1, Math.ceil(until - now));
  }

  /**
   * One read → process → commit round: `idle` when nothing was acked (the loop waits for work), `caught-up` when a
   * batch committed that took everything there was and held nothing back (the loop waits too: see
   * `PartitionReader.drained`), else `progressed` (it reads again at once).
   */
  private async processBatch(): Promise<'idle' | 'progressed' | 'caught-up'> {
    const waiting = this.retries.blocked(this.ctx.clock.now());
    const got = await this.reader.read(waiting);
    if (got === 'fenced') {
      this.markLost();
      return 'idle';
    }
    if (!this.active) return 'idle';
    const { raw, dups, undelivered, unchecked } = got;
    if (dups.length) await this.answerDuplicates(dups);
    if (raw.length === 0 && !undelivered) return dups.length > 0 ? 'progressed' : 'idle';

    const batch = new Batch();
    // New entries read without a write: this batch's commit delivers them — acking the duplicates among them, and
    // leaving held-back and failed ones pending — even when it has nothing else to write.
    if (undelivered) {
      batch.undelivered = undelivered;
      // Only the new ones: pending duplicates were acked by the read.
      for (const [id] of dups) if (compareStreamIds(id, undelivered[2]) >= 0) batch.acks.push(id);
    }
    const envelopes: Envelope[] = [];
    const now = this.ctx.clock.now();
    for (const [id, fields, deliveries] of raw) {
      try {
        envelopes.push(parseEntry(id, fields, deliveries, now));
      } catch (error) {
        addDeadLetter(batch, this.place, id, fields, deliveries, error, 'malformed entry', now);
      }
    }
    // A timer's firing or an effect's outcome comes to an actor that was committed: read it whatever is known.
    for (const env of envelopes) if (env.kind) this.actors.mayExist(env.address);
    await this.actors.load(
      envelopes.map((env) => env.address),
      now,
      batch.unreadable,
    );
    await this.applier.apply(batch, envelopes, now);
    // A read that took everything there was holds every earlier message a sender of this partition sent: what the
    // batch's turns sent to this partition's own actors can be applied here, in order (see `applyLocal`).
    if (this.ctx.localDelivery && this.reader.drained && batch.outbox.length) {
      batch.appliedLocally = await this.applier.applyLocal(batch, this.keys.mbox, now, this.ctx.settings.batchSize, waiting);
    }
    if (unchecked) {
      const marked = new Set(batch.seen);
      for (const env of envelopes) if (!marked.has(env.id)) batch.unchecked.push(env.id);
    }
    if (batch.earliestTimer !== Infinity && (this.nextTimerDue === -1 || batch.earliestTimer < this.nextTimerDue)) this.nextTimerDue = batch.earliestTimer;
    if (batch.acks.length === 0 && !batch.undelivered) return 'idle';
    if (batch.delayMs > 0) await Bun.sleep(batch.delayMs);
    if (!this.active) return 'idle';
    // With local delivery, a batch that appends to its own mailbox (a local message that went that way) sends no read
    // with its commit: Redis may answer that read, with another sender's entry, before the commit appends, and the
    // next batch would apply its local messages ahead of the one waiting there (see `applyLocal`).
    const appendsToItself = this.ctx.localDelivery && batch.outbox.some((m) => m.mbox === this.keys.mbox);
    const waitsNext = this.reader.drained && batch.blocked.size === 0 && batch.copies.length === 0 && !appendsToItself;
    const committing = this.commit(batch);
    // A batch that took all there was is followed by a wait: its doorbell read goes out right behind the commit (sent
    // by now), so that Redis takes both in one wake.
    if (waitsNext) this.reader.arm(this.blockMs(this.ctx.clock.now()));
    const committed = await committing;
    for (const fields of batch.copies) await this.ctx.link.call(['XADD', this.keys.mbox, '*', ...fields]);
    if (batch.acks.length === 0) return 'idle';
    // Not after a batch that held an actor's entries back (behind a failed message): they stay pending, not newer
    // than what the doorbell watches for, and a dead-lettered failure schedules no retry that would end the wait.
    return committed && this.reader.drained && batch.blocked.size === 0 ? 'caught-up' : 'progressed';
  }

  /** Answers the askers of messages that were processed before (their entries came back as duplicates). */
  private async answerDuplicates(dups: [string, string[]][]): Promise<void> {
    const envs: Envelope[] = [];
    for (const [id, fields] of dups) {
      try {
        const env = parseEntry(id, fields, 1, this.ctx.clock.now());
        if (env.replyTo) envs.push(env);
      } catch {}
    }
    if (!envs.length) return;
    // A repeat's actor processed the message before: it has a record, which the answer must come from.
    for (const env of envs) this.actors.mayExist(env.address);
    await this.actors.load(
      envs.map((env) => env.address),
      this.ctx.clock.now(),
    );
    for (const env of envs) {
      const actor = this.actors.get(env.address);
      const payload: ReplyPayload = actor ? answerOf(actor, undefined, false, true) : { q: '', ok: false, error: 'duplicate of a message already processed' };
      payload.q = env.replyTo!.q;
      if (this.ctx.resolveLocal(env.replyTo!, payload)) continue;
      this.publishReply(this.ctx.replyChannel(env.replyTo!.n), JSON.stringify(payload));
    }
  }

  /** Publishes a reply outside the commit script (at most once, as pub/sub is: an asker that misses it times out). */
  private publishReply(channel: string, json: string): void {
    void this.ctx.link.call([this.ctx.replyCommand, channel, json]).catch(() => {});
  }

  /** Commits a batch; returns whether it committed (false: fenced, or nothing of the batch was written). */
  private async commit(batch: Batch): Promise<boolean> {
    const actors = [...batch.dirty];
    // Before the commit goes: whatever its outcome (a lost answer may hide one that wrote), the records it may create
    // may exist. (An actor at a version above 0 has a record already, which the scan or its first commit saw.)
    for (const actor of actors) if (actor.version === 0) this.known.add(`${actor.def.type}/${actor.id}`);
    const { settings } = this.ctx;
    const started = performance.now();
    const { replicaWait } = this.ctx;
    const outcome = await commitBatch(
      replicaWait?.link ?? this.ctx.link,
      this.keys,
      this.leaseValue,
      { group: this.ctx.group, nodeId: this.ctx.nodeId, seenHorizonMs: settings.seenHorizonMs, eventsMaxLen: settings.eventsMaxLen, deadLettersMaxLen: settings.deadLettersMaxLen, replies: this.ctx.replies, delivery: this.ctx.delivery },
      this.ctx.replyChannel,
      batch,
      actors,
      this.ctx.clock.now(),
    );
    this.metrics.commitDuration.observe((performance.now() - started) / 1000);
    this.metrics.commit(outcome.kind).inc();
    if (outcome.kind === 'fenced') {
      this.markLost();
      return false;
    }
    // Throws when too few replicas confirmed: the loop treats the commit's outcome as unknown (→ taking-over).
    if (outcome.kind === 'committed' && replicaWait) await replicaWait.confirm(this.keys.lease, `the commit of partition ${this.partition}`);
    if (outcome.kind !== 'committed') {
      // Nothing of the batch was written (at most the delivery of its new entries); the in-memory actors ran ahead of Redis.
      this.actors.clear();
      if (outcome.kind === 'conflict') this.ctx.onError(new Error(`version conflict on ${outcome.key} (stored ${outcome.stored}); rebuilding partition ${this.partition}`), 'commit');
      if (outcome.kind === 'refused') await this.refused(batch, outcome.what);
      // A message applied in the batch that sent it (its id given by its sender: a resend) was processed before: the
      // batch, read again, sends it through the mailbox, whose read answers it as a repeat.
      if (outcome.kind === 'duplicate') this.applier.processedBefore(outcome.id);
      if (outcome.kind === 'not-delivered') this.ctx.onError(new Error(`the commit of partition ${this.partition} found the group elsewhere than its read had: ${outcome.what}; reading through the group again`), 'commit');
      return false;
    }
    if (batch.undelivered) this.reader.delivered(batch.acksAllUndelivered());
    for (const actor of actors) {
      actor.version++;
      actor.indexedState = actor.state;
      actor.unverified = false;
    }
    this.processed += batch.seen.length;
    this.metrics.acked.inc(batch.acks.length);
    if (batch.appliedLocally) this.metrics.local.inc(batch.appliedLocally);
    if (batch.acks.length) this.metrics.batchSize.observe(batch.acks.length);
    if (outcome.deadLettersTrimmed > 0) {
      this.ctx.inspect({ type: 'deadletter.trimmed', at: this.ctx.clock.now(), source: this.ctx.service, partition: this.partition, count: outcome.deadLettersTrimmed, maxLen: settings.deadLettersMaxLen });
    }
    if (batch.appliedLocally) this.sentTo.set(this.ctx.service, (this.sentTo.get(this.ctx.service) ?? 0) + batch.appliedLocally);
    if (batch.outbox.length) {
      for (const m of batch.outbox) {
        const target = m.fields[3]!.slice(0, m.fields[3]!.indexOf('/'));
        this.sentTo.set(target, (this.sentTo.get(target) ?? 0) + 1);
      }
      // Delivered by the commit itself (one Redis) unless it wrote an outbox entry for the relay.
      if (outcome.outboxId) this.relay.committed(batch.outbox, outcome.outboxId);
    }
    for (const fx of batch.effectsSet) this.ctx.effects.launch(fx, this);
    if (batch.effectsDel.length) this.ctx.effects.abort((key) => batch.effectsDel.includes(key));
    for (const r of outcome.local) this.ctx.resolveLocal(r.to, r.payload);
    for (const [channel, json] of outcome.remote) this.publishReply(channel, json);
    for (const ev of batch.inspections) this.ctx.inspect(ev);
    if (this.ctx.wantsMessageEvents()) {
      const at = preciseNow();
      for (const env of batch.received) {
        this.ctx.inspect({ type: 'message.received', at: this.ctx.clock.now(), source: this.ctx.service, actor: env.address, event: env.event.type, messageId: env.id, latencyMs: at - env.sentAt });
      }
    }
    return true;
  }

  /**
   * The commit script refused a batch's arguments (nothing was written). The checks in the step should make this
   * impossible; if it happens anyway, entries are read one at a time until the culprit is alone in its batch, and
   * then it is dead-lettered with the script's reason — the partition goes on.
   */
  private async refused(batch: Batch, what: string): Promise<void> {
    const error = new Error(`the commit script refused the turn: ${what}`);
    this.ctx.onError(error, `partition ${this.partition}`);
    // The batch's mailbox entries (not the messages its turns sent each other, which the read brings again with them).
    const entries = [...batch.received.filter((env) => env.streamId !== LOCAL_STREAM_ID), ...batch.failures.map((f) => f.env)];
    if (entries.length !== 1) {
      this.reader.isolateNext(Math.max(1, batch.acks.length));
      return;
    }
    const env = entries[0]!;
    const alone = new Batch();
    // Entries the refused batch's read took by cursor are delivered with the dead letter (its own entry acked, any
    // other one left pending for the next read): else the culprit would be read, refused and dead-lettered again.
    alone.undelivered = batch.undelivered;
    addDeadLetter(alone, this.place, env.streamId, envelopeFields(env), env.deliveries, error, 'refused', this.ctx.clock.now());
    await this.commit(alone);
  }
}

function pairsOf(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
