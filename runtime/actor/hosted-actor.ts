/**
 * One live actor in a node's memory: an XState actor of the hosted machine, restored from its committed record,
 * whose every step is captured instead of acted on. Sends, published events, replies, delayed events (durable
 * timers) and invoked promises (effects) come out of `step()` as data for the atomic commit; XState's own timers
 * never run (its clock is inert), because a timer must outlive the process.
 */
import { createActor, type AnyActor, type InspectionEvent as XStateInspection, type Snapshot } from 'xstate';
import { parseAddress } from '../address.ts';
import { systemClock } from '../clock.ts';
import { NOTE, PUBLISH, REPLY, TELL, type ActorDefinition, type MailroomEvent } from './define-actor.ts';
import type { ActorRecord, TimerToArm } from './migration.ts';

export type { ActorRecord } from './migration.ts';

export type TimerArm = { timerId: string; token: string; delayMs: number; event: MailroomEvent };
export type EffectStart = { invokeId: string; key: string; src: string; input: unknown };

export type StepOutput = {
  tells: { to: string; event: MailroomEvent; id?: string }[];
  notes: (Record<string, unknown> & { type: string })[];
  published: MailroomEvent[];
  replies: unknown[];
  timersArmed: TimerArm[];
  /** Ids of timers no longer wanted (cancelled, or replaced by a new arm of the same id). */
  timersCancelled: string[];
  effectsStarted: EffectStart[];
  /** Keys of effects no longer wanted. */
  effectsStopped: string[];
  from: string;
  to: string;
  handled: boolean;
};

const inertClock = { setTimeout: () => 0 as any, clearTimeout: () => {} };

let tokenSeq = 0;
// Unique to this process (its pid and start time), not a time anything decides on: the wall clock, whatever a node's clock says.
const tokenBase = `${process.pid.toString(36)}${systemClock.now().toString(36)}`;
const newToken = (prefix: string) => `${prefix}${tokenBase}.${(tokenSeq++).toString(36)}`;

/** A state value as one short string: `idle`, `checkout.paying`. */
export function stateKey(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '(root)';
    if (entries.length === 1) {
      const [k, v] = entries[0]!;
      return `${k}.${stateKey(v)}`;
    }
    return `(${entries.map(([k, v]) => `${k}.${stateKey(v)}`).join(', ')})`;
  }
  return String(value);
}

/** What a step's caller checks before the step counts (encoding its output, say): a throw reverts the step. */
export type StepCheck = (out: StepOutput, actor: HostedActor) => void;

export class ActorStepError extends Error {
  constructor(
    readonly actor: string,
    readonly event: string,
    override readonly cause: unknown,
  ) {
    super(`actor ${actor} failed on "${event}": ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export class HostedActor {
  /** Version of the committed record this actor's state builds on (0 = never committed). */
  version: number;
  lastUsed = 0;
  /** The state the actor index holds for it (what the last commit wrote), so unchanged states are not rewritten. */
  indexedState: string | null = null;
  /**
   * Created without reading its record, its partition knowing of none (`known-actors.ts`), and not committed since:
   * nothing has checked yet that no record exists. A commit of it checks; a failed message must read it first.
   */
  unverified = false;
  private actor!: AnyActor;
  private started = false;
  private out: StepOutput | null = null;
  private failure: unknown = null;
  private timers: Record<string, string>;
  private effects: Record<string, string>;
  /** The record as JSON after the last successful step: encoded inside the step, so a value JSON cannot hold fails it. */
  recordJson = '';
  /** Timers a migrated record's states need and did not have: armed by the next successful step. */
  private timersToArm: TimerToArm[];

  /** `record` is one of this definition's version (see `restoreRecord` in migration.ts). */
  constructor(
    readonly def: ActorDefinition,
    readonly address: string,
    readonly id: string,
    record: ActorRecord | null,
    version: number,
    timersToArm: TimerToArm[] = [],
  ) {
    this.version = version;
    this.timersToArm = timersToArm;
    this.timers = { ...(record?.t ?? {}) };
    this.effects = { ...(record?.f ?? {}) };
    this.actor = this.create(record?.s);
    if (record) {
      this.actor.start();
      this.started = true;
    }
  }

  private create(snapshot: unknown): AnyActor {
    const actor = createActor(this.def.hosted, {
      clock: inertClock as any,
      input: { id: this.id, address: this.address },
      snapshot: snapshot as Snapshot<unknown> | undefined,
      inspect: (ev: XStateInspection) => this.observe(ev),
    });
    actor.subscribe({ error: (err: unknown) => (this.failure = err) });
    return actor;
  }

  get snapshot() {
    return this.actor.getSnapshot();
  }

  /** Whether the machine reached a final state (it will take no more events). */
  get done(): boolean {
    return this.actor.getSnapshot().status === 'done';
  }

  get state(): string {
    return stateKey(this.actor.getSnapshot().value);
  }

  /** The record to store after the steps taken so far. */
  record(): ActorRecord {
    const rec: ActorRecord = { s: this.actor.getPersistedSnapshot(), m: this.def.version };
    if (Object.keys(this.timers).length) rec.t = this.timers;
    if (Object.keys(this.effects).length) rec.f = this.effects;
    return rec;
  }

  /** The key of the effect running for an invoke id, if one is. */
  effectKey(invokeId: string): string | undefined {
    return this.effects[invokeId];
  }

  /** The timer id a timer token was armed for, if it is still armed. */
  timerFor(token: string): string | undefined {
    return this.timers[token];
  }

  /**
   * The event a timer's firing delivers: the one it was armed with, unless a migration carried the timer over to a
   * renamed state — then that state's `after` event (the stored event still names the old state).
   */
  firedEvent(token: string, event: MailroomEvent): MailroomEvent {
    const timerId = this.timers[token];
    return timerId && timerId !== event.type && timerId.startsWith('xstate.after.') && event.type.startsWith('xstate.after.') ? { ...event, type: timerId } : event;
  }

  /**
   * Applies one event. Throws `ActorStepError` (leaving the actor as it was before the event) when the machine
   * throws, when what it decided cannot be stored (a delay that is not a number, a value JSON cannot hold), or when
   * `check` throws; otherwise returns everything the step decided. `outcomeOf` names the effect whose outcome the
   * event is: once applied, that effect is over even if the machine stays in the state that invoked it.
   */
  step(event: MailroomEvent, options: { check?: StepCheck; outcomeOf?: { invokeId: string; key: string } } = {}): StepOutput {
    const wasNew = !this.started;
    const timersBefore = { ...this.timers };
    const effectsBefore = { ...this.effects };
    const out: StepOutput = {
      tells: [],
      notes: [],
      published: [],
      replies: [],
      timersArmed: [],
      timersCancelled: [],
      effectsStarted: [],
      effectsStopped: [],
      from: '',
      to: '',
      handled: false,
    };
    this.out = out;
    this.failure = null;
    for (const arm of this.timersToArm) out.timersArmed.push({ ...arm, token: newToken('t') });
    let before = this.actor.getSnapshot();
    try {
      if (wasNew) {
        // A new actor's entry actions belong to its first turn.
        this.started = true;
        this.actor.start();
        before = this.actor.getSnapshot();
      }
      out.from = stateKey(before.value);
      this.actor.send(event);
    } finally {
      this.out = null;
    }
    const after = this.actor.getSnapshot();
    let cause: unknown = this.failure ?? (after.status === 'error' ? after.error : null);
    out.handled = after !== before;
    if (cause === null) {
      try {
        this.settle(out, options.outcomeOf);
        this.verify(out);
        options.check?.(out, this);
        this.recordJson = JSON.stringify(this.record());
        this.timersToArm = [];
      } catch (error) {
        cause = error;
      }
    }
    if (cause !== null) {
      // Back to the state before this event: the in-memory actor must never run ahead on a failed step.
      this.timers = timersBefore;
      this.effects = effectsBefore;
      this.actor.stop();
      this.actor = this.create(wasNew ? undefined : this.def.hosted.getPersistedSnapshot(before));
      if (wasNew) this.started = false;
      else this.actor.start();
      throw new ActorStepError(this.address, event.type, cause);
    }
    return out;
  }

  /** Bookkeeping of a successful step: state names, timers armed, the effect whose outcome this was. */
  private settle(out: StepOutput, outcomeOf: { invokeId: string; key: string } | undefined): void {
    const after = this.actor.getSnapshot();
    out.to = stateKey(after.value);
    for (const arm of out.timersArmed) {
      for (const [token, timerId] of Object.entries(this.timers)) if (timerId === arm.timerId) delete this.timers[token];
      this.timers[arm.token] = arm.timerId;
    }
    if (outcomeOf && this.effects[outcomeOf.invokeId] === outcomeOf.key) {
      delete this.effects[outcomeOf.invokeId];
      out.effectsStopped.push(outcomeOf.key);
    }
  }

  /** What the commit could not store or deliver fails the step here, where it can still be undone. */
  private verify(out: StepOutput): void {
    for (const t of out.tells) {
      try {
        parseAddress(t.to);
      } catch (error) {
        throw new Error(`tell to an invalid address: ${(error as Error).message}`);
      }
    }
    for (const arm of out.timersArmed) {
      if (!Number.isFinite(arm.delayMs) || arm.delayMs < 0) {
        throw new Error(`timer "${arm.timerId}" has a delay of ${String(arm.delayMs)} ms; a delay must be a finite number of ms ≥ 0`);
      }
    }
  }

  /** Forgets a timer once its firing has been processed (or found stale). */
  dropTimer(token: string): void {
    delete this.timers[token];
  }

  stop(): void {
    try {
      this.actor.stop();
    } catch {
      // Stopping a finished or failed actor is a no-op for us.
    }
  }

  private observe(ev: XStateInspection): void {
    const out = this.out;
    if (!out || ev.type !== '@xstate.action' || ev.actorRef !== this.actor) return;
    const { type, params } = ev.action as { type: string; params: any };
    switch (type) {
      case 'xstate.emit': {
        const e = params?.event;
        if (e?.type === TELL) out.tells.push({ to: e.to, event: e.event, id: e.id });
        else if (e?.type === NOTE) out.notes.push(e.event);
        else if (e?.type === PUBLISH) out.published.push(e.event);
        else if (e?.type === REPLY) out.replies.push(e.data);
        else if (e) out.published.push(e);
        break;
      }
      case 'xstate.raise':
      case 'xstate.sendTo': {
        if (params?.delay === undefined) break;
        if (type === 'xstate.sendTo' && params.to !== this.actor) {
          throw new Error('delayed sendTo another XState actor is not supported; use tell() for actors and after/raise for timers');
        }
        const timerId = String(params.id ?? `${params.event?.type}#${newToken('')}`);
        out.timersArmed.push({ timerId, token: newToken('t'), delayMs: Number(params.delay), event: params.event });
        break;
      }
      case 'xstate.cancel': {
        const sendId = String(params?.sendId);
        for (const [token, timerId] of Object.entries(this.timers)) if (timerId === sendId) delete this.timers[token];
        out.timersArmed = out.timersArmed.filter((t) => t.timerId !== sendId);
        out.timersCancelled.push(sendId);
        break;
      }
      case 'xstate.spawnChild': {
        if (typeof params?.src !== 'string' || !this.def.effects.has(params.src)) {
          throw new Error(`invoked actor "${String(params?.src)}" is not a declared effect of ${this.def.type}`);
        }
        const invokeId = String(params.id);
        const key = `fx:${this.address}|${invokeId}|${newToken('')}`;
        const previous = this.effects[invokeId];
        if (previous) out.effectsStopped.push(previous);
        this.effects[invokeId] = key;
        out.effectsStarted.push({ invokeId, key, src: params.src, input: params.input });
        break;
      }
      case 'xstate.stopChild': {
        const id = params?.id ?? params;
        const key = typeof id === 'string' ? this.effects[id] : undefined;
        if (key) {
          delete this.effects[id];
          out.effectsStopped.push(key);
          out.effectsStarted = out.effectsStarted.filter((e) => e.key !== key);
        }
        break;
      }
    }
  }
}
