/**
 * One live actor in a node's memory: the hosted machine's snapshot, restored from its committed record, stepped by
 * XState's pure transition (`machine.transition(snapshot, event, scope)`) with every action captured instead of
 * acted on. Sends, published events, replies, delayed events (durable timers) and invoked promises (effects) come out
 * of `step()` as data for the atomic commit; XState's own scheduler never runs, because a timer must outlive the
 * process. (A live XState actor per actor, its actions watched through inspection, decided the same and cost 1.3× as
 * much a counter's turn, 1.5× a saga's: docs/benchmarks.md.)
 */
import { createActor, fromTransition, type AnyActor, type AnyActorScope, type AnyMachineSnapshot, type ExecutableActionObject, type Snapshot } from 'xstate';
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

/**
 * What a hosted machine's `self` runs: nothing. `self` is a reference — a `sendTo` target (the event is taken within
 * the same turn), the parent of invoked effects — and not a live actor to read or send to: the state is the turn's
 * snapshot, and what the machine sends itself goes through `sendTo` or `raise`. A machine's own logic here would
 * compute its initial state once more for every new actor, for nothing.
 */
const selfLogic = fromTransition((state: undefined) => state, undefined);

const inertClock = { setTimeout: () => 0 as any, clearTimeout: () => {} };

let tokenSeq = 0;
// Unique to this process (its pid and start time), not a time anything decides on: the wall clock, whatever a node's clock says.
const tokenBase = `${process.pid.toString(36)}${systemClock.now().toString(36)}`;
const newToken = (prefix: string) => `${prefix}${tokenBase}.${(tokenSeq++).toString(36)}`;

/** A state value as one short string: `idle`, `checkout.paying`. */
export function stateKey(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    // The first key and whether there is a second, without building the list of entries (a turn asks twice).
    let first: string | undefined;
    let more = false;
    for (const key in value) {
      if (first === undefined) first = key;
      else {
        more = true;
        break;
      }
    }
    if (first === undefined) return '(root)';
    if (!more) return `${first}.${stateKey((value as Record<string, unknown>)[first])}`;
    return `(${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}.${stateKey(v)}`).join(', ')})`;
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

/** A map of strings as a JSON object. */
const mapJson = (map: Map<string, string>): string => {
  let json = '';
  for (const [key, value] of map) json += `${json ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return `{${json}}`;
};

/**
 * A snapshot as XState's `getPersistedSnapshot` stores it, once encoded as JSON, without that function's walk of the
 * whole context in search of actor references (a third of a saga's step): `JSON.stringify` writes such a reference
 * the same way, by its `toJSON` (`{ xstate$$type, id }`). The context goes as is, so this is for encoding only.
 * `tests/runtime/hosted-actor.test.ts` holds it to XState's own.
 */
export function persisted(snapshot: AnyMachineSnapshot): unknown {
  const children: Record<string, unknown> = {};
  for (const id in snapshot.children) {
    const child = snapshot.children[id] as AnyActor & { _syncSnapshot?: boolean };
    children[id] = { snapshot: child.getPersistedSnapshot(), src: child.src, systemId: child.systemId, syncSnapshot: child._syncSnapshot };
  }
  const history: Record<string, { id: string }[]> = {};
  for (const key in snapshot.historyValue) {
    const nodes = snapshot.historyValue[key];
    if (Array.isArray(nodes)) history[key] = nodes.map((node) => ({ id: node.id }));
  }
  const { status, output, error, value, context } = snapshot as AnyMachineSnapshot & { output?: unknown; error?: unknown };
  return { status, output, error, value, historyValue: history, context, children };
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
  /** The `self` the machine's actions see and the parent of its invoked children: a reference, never started (see `selfLogic`). */
  private self!: AnyActor;
  private scope!: AnyActorScope;
  private current: AnyMachineSnapshot;
  /** A new actor's initial-state actions, not applied yet: its first turn applies them (as a live actor's `start()`). */
  private initialActions: ExecutableActionObject[] | null = null;
  /** While set, actions are collected instead of applied (while the initial state is computed). */
  private collecting: ExecutableActionObject[] | null = null;
  private out: StepOutput | null = null;
  /** Events the machine sent itself without a delay: a live actor takes them within the same `send`. */
  private relayed: MailroomEvent[] = [];
  /**
   * Armed timers, token → timer id: what the record stores (`t`). Maps, not objects: a token is a new key every time,
   * and an object given ever-new keys makes the engine build a new shape for each (measured: `bun run bench step`).
   */
  private timers = new Map<string, string>();
  /** The same, timer id → token (a timer id is armed at most once). */
  private tokens = new Map<string, string>();
  /** Running effects, invoke id → effect key: what the record stores (`f`). */
  private effects: Map<string, string>;
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
    this.armed(new Map(Object.entries(record?.t ?? {})));
    this.effects = new Map(Object.entries(record?.f ?? {}));
    this.openScope();
    this.current = record ? this.def.hosted.restoreSnapshot(record.s as Snapshot<unknown>, this.scope) : this.initial();
  }

  /**
   * A new `self`, its own actor system, and the scope the machine's steps run in. A failed step gets a new one, as a
   * live actor was rebuilt: a child the step spawned stays registered in the old system (under its `systemId`).
   */
  private openScope(): void {
    const self = createActor(selfLogic, { clock: inertClock as any }) as any;
    // Sent to, `self` would queue the event for nothing: fail the step and say what to use instead.
    self.send = (event: { type?: unknown } | undefined) => {
      throw new Error(`self.send(${JSON.stringify(event?.type)}) in a hosted machine: use sendTo(({ self }) => self, …) or raise(…), which the turn takes`);
    };
    this.self = self;
    this.scope = {
      self,
      id: self.id,
      sessionId: self.sessionId,
      logger: self.logger,
      system: self.system,
      // What XState would do after the step (schedule a delayed event, start or stop a child, emit): the step has captured it.
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      actionExecutor: (action) => (this.collecting ? this.collecting.push(action) : this.apply(action)),
    };
  }

  private input() {
    return { id: this.id, address: this.address };
  }

  /** The machine's initial snapshot, its entry actions kept for the first turn. */
  private initial(): AnyMachineSnapshot {
    this.collecting = [];
    try {
      return this.def.hosted.getInitialSnapshot(this.scope, this.input());
    } finally {
      this.initialActions = this.collecting;
      this.collecting = null;
    }
  }

  get snapshot(): AnyMachineSnapshot {
    return this.current;
  }

  /** Whether the machine reached a final state (it will take no more events). */
  get done(): boolean {
    return this.current.status === 'done';
  }

  get state(): string {
    return stateKey(this.current.value);
  }

  /** The record to store after the steps taken so far: as JSON, what XState's `getPersistedSnapshot` gives (see `persisted`). */
  record(): ActorRecord {
    const rec: ActorRecord = { s: persisted(this.current), m: this.def.version };
    if (this.timers.size) rec.t = Object.fromEntries(this.timers);
    if (this.effects.size) rec.f = Object.fromEntries(this.effects);
    return rec;
  }

  /** `record()` as JSON, its timers and effects written from their maps (no object with a token for a key is built). */
  private encodeRecord(): string {
    const json = JSON.stringify({ s: persisted(this.current), m: this.def.version });
    if (!this.timers.size && !this.effects.size) return json;
    return `${json.slice(0, -1)}${this.timers.size ? `,"t":${mapJson(this.timers)}` : ''}${this.effects.size ? `,"f":${mapJson(this.effects)}` : ''}}`;
  }

  /** The key of the effect running for an invoke id, if one is. */
  effectKey(invokeId: string): string | undefined {
    return this.effects.get(invokeId);
  }

  /** The timer id a timer token was armed for, if it is still armed. */
  timerFor(token: string): string | undefined {
    return this.timers.get(token);
  }

  /**
   * The event a timer's firing delivers: the one it was armed with, unless a migration carried the timer over to a
   * renamed state — then that state's `after` event (the stored event still names the old state).
   */
  firedEvent(token: string, event: MailroomEvent): MailroomEvent {
    const timerId = this.timers.get(token);
    return timerId && timerId !== event.type && timerId.startsWith('xstate.after.') && event.type.startsWith('xstate.after.') ? { ...event, type: timerId } : event;
  }

  /**
   * Applies one event. Throws `ActorStepError` (leaving the actor as it was before the event) when the machine
   * throws, when what it decided cannot be stored (a delay that is not a number, a value JSON cannot hold), or when
   * `check` throws; otherwise returns everything the step decided. `outcomeOf` names the effect whose outcome the
   * event is: once applied, that effect is over even if the machine stays in the state that invoked it. `fired` names
   * the token of the timer whose firing the event is: once applied, that timer is no longer armed — in the record this
   * step encodes too, not only in memory (a failed step keeps it armed, for the firing's retry).
   */
  step(event: MailroomEvent, options: { check?: StepCheck; outcomeOf?: { invokeId: string; key: string }; fired?: string } = {}): StepOutput {
    const initialActions = this.initialActions;
    // What a failed step restores: copied only when there is something to copy (a counter has neither).
    const timersBefore = this.timers.size ? new Map(this.timers) : null;
    const effectsBefore = this.effects.size ? new Map(this.effects) : null;
    if (options.fired !== undefined) this.dropTimer(options.fired);
    const reverted = this.current;
    let before = reverted;
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
    for (const arm of this.timersToArm) out.timersArmed.push({ ...arm, token: newToken('t') });
    let failed = false;
    let cause: unknown;
    this.out = out;
    try {
      // A new actor's entry actions belong to its first turn, and what they send the actor itself comes before the event.
      if (initialActions) {
        this.initialActions = null;
        if (before.status !== 'error') for (const action of initialActions) this.apply(action);
        while (this.relayed.length) before = this.transition(before, this.relayed.shift()!);
      }
      out.from = stateKey(before.value);
      this.current = this.transition(before, event);
      while (this.relayed.length) this.current = this.transition(this.current, this.relayed.shift()!);
      if (this.current.status === 'error') [failed, cause] = [true, this.current.error];
    } catch (error) {
      [failed, cause] = [true, error];
    } finally {
      this.out = null;
      this.relayed = [];
    }
    out.handled = this.current !== before;
    if (!failed) {
      try {
        this.settle(out, options.outcomeOf);
        this.verify(out);
        options.check?.(out, this);
        this.recordJson = this.encodeRecord();
        this.timersToArm = [];
      } catch (error) {
        [failed, cause] = [true, error];
      }
    }
    if (failed) {
      // Back to the state before this event: the in-memory actor must never run ahead on a failed step. Rebuilt in a
      // new scope from the snapshot before (a new actor: its initial state again), as a live actor was.
      this.armed(timersBefore ?? new Map());
      this.effects = effectsBefore ?? new Map();
      this.openScope();
      this.current = initialActions ? this.initial() : this.def.hosted.restoreSnapshot(this.def.hosted.getPersistedSnapshot(reverted), this.scope);
      throw new ActorStepError(this.address, event.type, cause);
    }
    return out;
  }

  /** A final or failed machine takes no more events, as a stopped live actor ignores them. */
  private transition(snapshot: AnyMachineSnapshot, event: MailroomEvent): AnyMachineSnapshot {
    return snapshot.status === 'active' ? this.def.hosted.transition(snapshot, event, this.scope) : snapshot;
  }

  /** Bookkeeping of a successful step: state names, timers armed, the effect whose outcome this was. */
  private settle(out: StepOutput, outcomeOf: { invokeId: string; key: string } | undefined): void {
    out.to = stateKey(this.current.value);
    for (const arm of out.timersArmed) {
      this.forgetTimer(arm.timerId);
      this.timers.set(arm.token, arm.timerId);
      this.tokens.set(arm.timerId, arm.token);
    }
    if (outcomeOf && this.effects.get(outcomeOf.invokeId) === outcomeOf.key) {
      this.effects.delete(outcomeOf.invokeId);
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

  /** Takes `timers` (token → timer id) as the armed ones, and their reverse map with them. */
  private armed(timers: Map<string, string>): void {
    this.timers = timers;
    this.tokens = new Map();
    for (const [token, timerId] of timers) this.tokens.set(timerId, token);
  }

  /** Forgets a timer once its firing is being processed. */
  private dropTimer(token: string): void {
    const timerId = this.timers.get(token);
    this.timers.delete(token);
    if (timerId !== undefined && this.tokens.get(timerId) === token) this.tokens.delete(timerId);
  }

  /** Disarms the timer of this id, if one is armed (a timer id is armed at most once). */
  private forgetTimer(timerId: string): void {
    const token = this.tokens.get(timerId);
    if (token === undefined) return;
    this.timers.delete(token);
    this.tokens.delete(timerId);
  }

  /** Captures what an action decided, then runs it as a live actor would (its deferred parts are dropped: see `scope`). */
  private apply(action: ExecutableActionObject): void {
    if (this.out) this.capture(this.out, action.type, action.params as any);
    action.exec?.(action.info, action.params);
  }

  private capture(out: StepOutput, type: string, params: any): void {
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
        if (params?.delay === undefined) {
          if (type === 'xstate.sendTo' && params?.to === this.self) this.relayed.push(params.event);
          break;
        }
        if (type === 'xstate.sendTo' && params.to !== this.self) {
          throw new Error('delayed sendTo another XState actor is not supported; use tell() for actors and after/raise for timers');
        }
        const timerId = String(params.id ?? `${params.event?.type}#${newToken('')}`);
        out.timersArmed.push({ timerId, token: newToken('t'), delayMs: Number(params.delay), event: params.event });
        break;
      }
      case 'xstate.cancel': {
        const sendId = String(params?.sendId);
        this.forgetTimer(sendId);
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
        const previous = this.effects.get(invokeId);
        if (previous) out.effectsStopped.push(previous);
        this.effects.set(invokeId, key);
        out.effectsStarted.push({ invokeId, key, src: params.src, input: params.input });
        break;
      }
      case 'xstate.stopChild': {
        const id = params?.id ?? params;
        const key = typeof id === 'string' ? this.effects.get(id) : undefined;
        if (key) {
          this.effects.delete(id);
          out.effectsStopped.push(key);
          out.effectsStarted = out.effectsStarted.filter((e) => e.key !== key);
        }
        break;
      }
    }
  }
}
