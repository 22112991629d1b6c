/**
 * Applies a batch's messages to their actors, one at a time and in order, gathering what the batch will commit.
 * A message that fails — a throwing step, an output that can't be stored, an unreadable record, a tell to a service
 * that never registered, an injected error — fails alone: it is counted, its actor is blocked until its retry
 * (later messages of that actor stay pending, others go on), and after `maxDeliveries` it is dead-lettered.
 * Versions: a message to an actor whose record this version cannot restore (no migration, a migration that refused
 * or threw, a state that does not exist) is dead-lettered at once with the reason — retrying cannot change it; one
 * whose record a newer version wrote is held back, uncounted, and looked at again every `HOLD_BACK_MS`.
 */
import { ActorStepError } from '../actor/hosted-actor.ts';
import { RecordFromNewerVersion, RecordNotRestorable } from '../actor/migration.ts';
import { InjectedFault } from '../chaos/chaos-rule.ts';
import type { PartitionKeys } from '../keys.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import type { Batch, OutMsg, TurnOutput, VersionCause } from './batch.ts';
import { addDeadLetter, type DeadLetterPlace } from './dead-letter.ts';
import { envelopeFields, LOCAL_STREAM_ID, outcomeOf, parseEntry, type Envelope } from './envelope.ts';
import type { PartitionActors } from './partition-actors.ts';
import type { RetrySchedule } from './retry-schedule.ts';
import { answerOf, encodeTurn, NeedsLookup } from './turn-output.ts';
import type { WorkerContext } from './worker-context.ts';
import type { WorkerMetrics } from '../observe/metrics.ts';
import { tracing } from '../observe/tracing.ts';
import { traceTurn } from '../observe/turn-spans.ts';

const MESSAGE_FAULTS = ['drop', 'duplicate', 'error', 'latency', 'delay'] as const;

/** How long the messages of an actor a newer version wrote wait before this node looks again. */
export const HOLD_BACK_MS = 1_000;

export class BatchApplier {
  constructor(
    private readonly ctx: WorkerContext,
    private readonly place: DeadLetterPlace,
    private readonly keys: PartitionKeys,
    private readonly leaseValue: string,
    private readonly actors: PartitionActors,
    private readonly retries: RetrySchedule,
    private readonly metrics: WorkerMetrics,
  ) {}

  /** Actors held back (a newer version wrote them) that were reported already. */
  private readonly heldBack = new Set<string>();
  /** Ids of messages a commit found processed before when they were applied locally: the batch again sends them through the mailbox. */
  private readonly repeats = new Set<string>();

  /** Applies every message (their actors loaded), then counts the failures. */
  async apply(batch: Batch, envelopes: readonly Envelope[], now: number): Promise<void> {
    for (const env of envelopes) await this.applyTraced(batch, env, now);
    for (const failure of batch.failures) await this.failed(batch, failure.env, failure.error);
  }

  /**
   * Messages the batch's turns sent to actors of this same partition, applied in this batch — the receiver's turn
   * commits with the sender's, in the same script call — instead of being appended to the mailbox, read back and
   * committed again. The caller asks only after a read that took everything there was: a sender's earlier messages to
   * the same receiver were then in that read, so a message applied here overtakes none of them. A message goes through
   * the mailbox as before when its receiver waits for a retry or is held back, a chaos rule could hit it (the rule is
   * applied where it always is), a commit found it processed before, its receiver cannot be loaded, or its step
   * fails — and so does every later message of the batch to that receiver, to keep their order; a repeat of an id the
   * batch took is dropped, as the mailbox's read would. `waiting`: the actors whose entries the read left out
   * (waiting for a retry then, whatever the clock says now). At most `limit` are applied: two actors telling each
   * other forever end up in the mailbox. Returns how many were applied.
   */
  async applyLocal(batch: Batch, mbox: string, now: number, limit: number, waiting: readonly string[]): Promise<number> {
    const viaMailbox = new Set<string>(waiting);
    const rest: OutMsg[] = [];
    let applied = 0;
    // The local turns' own messages join the outbox as it is walked.
    for (let i = 0; i < batch.outbox.length; i++) {
      const msg = batch.outbox[i]!;
      if (msg.mbox === mbox && applied < limit && (await this.takeLocal(batch, msg, viaMailbox, now))) applied++;
      else rest.push(msg);
    }
    batch.outbox = rest;
    return applied;
  }

  /** The commit found this id processed before: the batch, read again, sends its message through the mailbox. */
  processedBefore(id: string): void {
    if (this.repeats.size >= 1_000) this.repeats.clear();
    this.repeats.add(id);
  }

  private async takeLocal(batch: Batch, msg: OutMsg, viaMailbox: Set<string>, now: number): Promise<boolean> {
    const address = msg.fields[3]!;
    if (viaMailbox.has(address)) return false;
    let env: Envelope | undefined;
    try {
      env = parseEntry(LOCAL_STREAM_ID, msg.fields, 1, now);
    } catch {}
    // What else keeps it out of this batch (a receiver missing, blocked or waiting for a retry) `applyOne` says; a
    // repeat of an id the batch took is dropped there, as the mailbox's read would.
    const eligible =
      env !== undefined &&
      !env.kind &&
      !env.replyTo &&
      // Kept (until the set is cleared): a commit names one repeat at a time, and a batch may hold several.
      !this.repeats.has(env.id) &&
      !this.ctx.chaos.targets(MESSAGE_FAULTS, { service: this.ctx.service, messageType: env.event.type });
    if (eligible && !this.actors.get(address)) await this.actors.load([address], now);
    if (eligible && (await this.applyTraced(batch, env!, now, true))) return true;
    viaMailbox.add(address);
    return false;
  }

  /** Applies one message, inside its span when tracing is on; false when a local message must go through the mailbox. */
  private async applyTraced(batch: Batch, env: Envelope, now: number, local = false): Promise<boolean> {
    if (!tracing.on) return this.applyLookingUp(batch, env, now, local);
    let applied = false;
    const failed = () => (local ? !applied : batch.failures.at(-1)?.env === env);
    await traceTurn(this.ctx.service, this.place.partition, env, async () => void (applied = await this.applyLookingUp(batch, env, now, local)), failed, local);
    return applied;
  }

  /** Applies one message; a tell to a service not yet known here is looked up, then the message applied again. */
  private async applyLookingUp(batch: Batch, env: Envelope, now: number, local: boolean): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.applyOne(batch, env, now, local);
      } catch (error) {
        if (!(error instanceof NeedsLookup) || attempt > 0) throw error;
        try {
          await this.ctx.router.partitions(error.service);
        } catch (lookup) {
          if ((lookup as { code?: unknown }).code !== 'UNKNOWN_SERVICE') throw lookup;
          if (local) return false;
          this.block(batch, env, new ActorStepError(env.address, env.event.type, lookup));
          return true;
        }
      }
    }
  }

  /**
   * Applies one message. A local one (see `applyLocal`) is applied only when it succeeds: false means it goes
   * through the mailbox instead, where what would have failed it here (blocked, missing, failing) is dealt with.
   */
  private applyOne(batch: Batch, env: Envelope, now: number, local: boolean): boolean {
    const actor = this.actors.get(env.address);
    if (local && !actor) return false;
    if (!actor) {
      const broken = batch.unreadable.get(env.address);
      if (broken instanceof RecordFromNewerVersion) this.holdBack(batch, env, broken);
      else if (broken instanceof RecordNotRestorable) this.deadLetter(batch, env.streamId, envelopeFields(env), env.deliveries, broken, 'upgrade');
      else if (broken !== undefined) this.block(batch, env, new ActorStepError(env.address, env.event.type, broken));
      else this.deadLetter(batch, env.streamId, envelopeFields(env), env.deliveries, new Error(this.actors.whyUnroutable(env.address)), 'undeliverable');
      return true;
    }
    if (batch.blocked.has(env.address) || this.retries.isBlocked(env.address, now)) {
      if (local) return false;
      batch.blocked.add(env.address);
      return true; // stays pending, in order, until the actor's failed message is retried
    }
    if (batch.seenInBatch.has(env.id)) {
      // A repeat: acked, not applied (a local one has no entry to ack).
      if (env.streamId !== LOCAL_STREAM_ID) batch.acks.push(env.streamId);
      if (env.replyTo) batch.replies.push({ to: env.replyTo, payload: answerOf(actor, undefined, false, true) });
      return true;
    }
    actor.lastUsed = now;
    // Chaos hits messages between actors, not a node's own timers and effect outcomes (nor a local one: see `applyLocal`).
    const hit = env.kind || local ? null : this.ctx.chaos.pick(MESSAGE_FAULTS, { service: this.ctx.service, messageType: env.event.type });
    if (hit) {
      switch (hit.rule.kind) {
        case 'drop': // lost on the way: acked, never applied, not remembered (a resend with its id is applied)
          batch.acks.push(env.streamId);
          return true;
        case 'duplicate': // delivered again after this commit, with the same message id
          batch.copies.push(envelopeFields(env));
          break;
        case 'error':
          this.block(batch, env, new ActorStepError(env.address, env.event.type, new InjectedFault(hit.rule)));
          return true;
        default: // latency, delay
          batch.delayMs = Math.max(batch.delayMs, hit.latencyMs);
      }
    }
    if (env.kind === 'timer' && actor.timerFor(env.id) === undefined) {
      // A firing of a timer that was cancelled or re-armed after it fell due.
      this.markDone(batch, env);
      return true;
    }
    const event = env.kind === 'timer' ? actor.firedEvent(env.id, env.event) : env.event;
    const outcome = outcomeOf(env);
    if (outcome && actor.effectKey(outcome.invokeId) !== outcome.key) {
      // The outcome of an effect the actor no longer waits for (stopped, or started again since): nothing to apply.
      this.markDone(batch, env);
      return true;
    }
    let turn: TurnOutput | undefined;
    const started = performance.now();
    try {
      actor.step(event, { outcomeOf: outcome, fired: env.kind === 'timer' ? env.id : undefined, check: (out) => (turn = encodeTurn(this.ctx, actor, env, out)) });
    } catch (error) {
      if (!(error instanceof ActorStepError)) throw error;
      if (error.cause instanceof NeedsLookup) throw error.cause;
      if (local) return false;
      this.block(batch, env, error);
      return true;
    }
    this.metrics.turnDuration.observe((performance.now() - started) / 1000);
    this.metrics.turns(actor.def.type).inc();
    this.retries.clear(env.address);
    this.heldBack.delete(env.address);
    if (env.kind === 'timer') {
      batch.inspections.push({ type: 'timer.fired', at: this.ctx.clock.now(), source: this.ctx.service, actor: env.address, timerId: event.type, dueAt: env.sentAt });
    }
    for (const [, value] of turn!.timers) if (value && value[0] < batch.earliestTimer) batch.earliestTimer = value[0];
    this.markDone(batch, env);
    batch.received.push(env);
    batch.add(actor, turn!, causeOf(env, event.type));
    return true;
  }

  private deadLetter(batch: Batch, streamId: string, fields: readonly string[], deliveries: number, error: unknown, why: string): void {
    addDeadLetter(batch, this.place, streamId, fields, deliveries, error, why, this.ctx.clock.now());
  }

  /** Leaves the message pending (not counted as a try) and reports the actor once, until it is applied here. */
  private holdBack(batch: Batch, env: Envelope, why: RecordFromNewerVersion): void {
    batch.blocked.add(env.address);
    this.retries.schedule(env.address, this.ctx.clock.now() + HOLD_BACK_MS);
    if (this.heldBack.has(env.address)) return;
    this.heldBack.add(env.address);
    this.ctx.inspect({
      type: 'actor.heldBack',
      at: this.ctx.clock.now(),
      source: this.ctx.service,
      actor: env.address,
      actorType: why.actorType,
      fromVersion: why.storedVersion,
      toVersion: why.knownVersion,
      reason: why.message,
    });
  }

  private block(batch: Batch, env: Envelope, error: ActorStepError): void {
    batch.blocked.add(env.address);
    batch.failures.push({ env, error });
  }

  private markDone(batch: Batch, env: Envelope): void {
    if (env.streamId !== LOCAL_STREAM_ID) batch.acks.push(env.streamId);
    batch.seen.push(env.id);
    batch.seenInBatch.add(env.id);
    if (env.deliveries > 1) batch.triesDel.push(env.id);
  }

  /** Counts a failed message; after `maxDeliveries` it becomes a dead letter, else its actor waits for a retry. */
  private async failed(batch: Batch, env: Envelope, error: ActorStepError): Promise<void> {
    if (this.actors.get(env.address)?.unverified) {
      // It failed on a fresh state taken without a read, which nothing checked: read its record and try again at
      // once, before anything is counted against the message. (If the batch also commits the actor, that commit's
      // version check settles what the record is; the retry reads whatever it left.)
      this.actors.mayExist(env.address);
      this.retries.schedule(env.address, this.ctx.clock.now());
      batch.blocked.add(env.address);
      return;
    }
    const tries = Number(await scripts.countTry.run(this.ctx.link, [this.keys.lease, this.keys.tries], [this.leaseValue, env.id]));
    if (tries === ScriptCode.NotLeaseHolder) {
      // No longer this node's partition: the commit will be fenced too; the message stays for the new owner.
      batch.blocked.add(env.address);
      return;
    }
    if (tries >= this.ctx.settings.maxDeliveries) {
      this.retries.clear(env.address);
      // The state it failed against: the committed version, or the one this batch commits when the actor already
      // changed in it (the dead letter is written in that same commit).
      const actor = this.actors.get(env.address);
      const version = actor ? actor.version + (batch.dirty.has(actor) ? 1 : 0) : undefined;
      addDeadLetter(batch, this.place, env.streamId, envelopeFields(env), tries, error.cause ?? error, `failed ${tries} times`, this.ctx.clock.now(), version);
      return;
    }
    this.metrics.retries.inc();
    this.retries.schedule(env.address, this.ctx.clock.now() + this.ctx.settings.retryBaseMs * 2 ** (tries - 1));
    batch.blocked.add(env.address);
    this.ctx.onError(error, `${env.address} (attempt ${tries} of ${this.ctx.settings.maxDeliveries})`);
  }

}

/** What the history says made a version: the message, with the event type the actor saw (a timer's, not `timer`). */
function causeOf(env: Envelope, type: string): VersionCause {
  const cause: VersionCause = { id: env.id, type };
  if (env.from) cause.from = env.from;
  if (env.kind) cause.kind = env.kind;
  return cause;
}
