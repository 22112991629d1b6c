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
import type { Batch, TurnOutput, VersionCause } from './batch.ts';
import { addDeadLetter, type DeadLetterPlace } from './dead-letter.ts';
import { envelopeFields, outcomeOf, type Envelope } from './envelope.ts';
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

  /** Applies every message (their actors loaded), then counts the failures. */
  async apply(batch: Batch, envelopes: readonly Envelope[], now: number): Promise<void> {
    for (const env of envelopes) await this.applyTraced(batch, env, now);
    for (const failure of batch.failures) await this.failed(batch, failure.env, failure.error);
  }

  /** Applies one message, inside its span when tracing is on. */
  private applyTraced(batch: Batch, env: Envelope, now: number): Promise<void> {
    if (!tracing.on) return this.applyLookingUp(batch, env, now);
    return traceTurn(this.ctx.service, this.place.partition, env, () => this.applyLookingUp(batch, env, now), () => batch.failures.at(-1)?.env === env);
  }

  /** Applies one message; a tell to a service not yet known here is looked up, then the message applied again. */
  private async applyLookingUp(batch: Batch, env: Envelope, now: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.applyOne(batch, env, now);
        return;
      } catch (error) {
        if (!(error instanceof NeedsLookup) || attempt > 0) throw error;
        try {
          await this.ctx.router.partitions(error.service);
        } catch (lookup) {
          if ((lookup as { code?: unknown }).code !== 'UNKNOWN_SERVICE') throw lookup;
          this.block(batch, env, new ActorStepError(env.address, env.event.type, lookup));
          return;
        }
      }
    }
  }

  private applyOne(batch: Batch, env: Envelope, now: number): void {
    const actor = this.actors.get(env.address);
    if (!actor) {
      const broken = batch.unreadable.get(env.address);
      if (broken instanceof RecordFromNewerVersion) return this.holdBack(batch, env, broken);
      if (broken instanceof RecordNotRestorable) return this.deadLetter(batch, env.streamId, envelopeFields(env), env.deliveries, broken, 'upgrade');
      if (broken !== undefined) return this.block(batch, env, new ActorStepError(env.address, env.event.type, broken));
      this.deadLetter(batch, env.streamId, envelopeFields(env), env.deliveries, new Error(this.actors.whyUnroutable(env.address)), 'undeliverable');
      return;
    }
    if (batch.blocked.has(env.address) || this.retries.isBlocked(env.address, now)) {
      batch.blocked.add(env.address);
      return; // stays pending, in order, until the actor's failed message is retried
    }
    if (batch.seenInBatch.has(env.id)) {
      batch.acks.push(env.streamId);
      if (env.replyTo) batch.replies.push({ to: env.replyTo, payload: answerOf(actor, undefined, false, true) });
      return;
    }
    actor.lastUsed = now;
    // Chaos hits messages between actors, not a node's own timers and effect outcomes.
    const hit = env.kind ? null : this.ctx.chaos.pick(MESSAGE_FAULTS, { service: this.ctx.service, messageType: env.event.type });
    if (hit) {
      switch (hit.rule.kind) {
        case 'drop': // lost on the way: acked, never applied, not remembered (a resend with its id is applied)
          batch.acks.push(env.streamId);
          return;
        case 'duplicate': // delivered again after this commit, with the same message id
          batch.copies.push(envelopeFields(env));
          break;
        case 'error':
          return this.block(batch, env, new ActorStepError(env.address, env.event.type, new InjectedFault(hit.rule)));
        default: // latency, delay
          batch.delayMs = Math.max(batch.delayMs, hit.latencyMs);
      }
    }
    if (env.kind === 'timer' && actor.timerFor(env.id) === undefined) {
      // A firing of a timer that was cancelled or re-armed after it fell due.
      this.markDone(batch, env);
      return;
    }
    const event = env.kind === 'timer' ? actor.firedEvent(env.id, env.event) : env.event;
    const outcome = outcomeOf(env);
    if (outcome && actor.effectKey(outcome.invokeId) !== outcome.key) {
      // The outcome of an effect the actor no longer waits for (stopped, or started again since): nothing to apply.
      this.markDone(batch, env);
      return;
    }
    let turn: TurnOutput | undefined;
    const started = performance.now();
    try {
      actor.step(event, { outcomeOf: outcome, check: (out) => (turn = encodeTurn(this.ctx, actor, env, out, now)) });
    } catch (error) {
      if (!(error instanceof ActorStepError)) throw error;
      if (error.cause instanceof NeedsLookup) throw error.cause;
      return this.block(batch, env, error);
    }
    this.metrics.turnDuration.observe((performance.now() - started) / 1000);
    this.metrics.turns(actor.def.type).inc();
    this.retries.clear(env.address);
    this.heldBack.delete(env.address);
    if (env.kind === 'timer') {
      actor.dropTimer(env.id);
      batch.inspections.push({ type: 'timer.fired', at: this.ctx.clock.now(), source: this.ctx.service, actor: env.address, timerId: event.type, dueAt: env.sentAt });
    }
    for (const [, value] of turn!.timers) if (value && value[0] < batch.earliestTimer) batch.earliestTimer = value[0];
    this.markDone(batch, env);
    batch.received.push(env);
    batch.add(actor, turn!, causeOf(env, event.type));
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
    batch.acks.push(env.streamId);
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
