/**
 * The candidate of issue #14, kept for `_xstate-step.ts` to measure against `HostedActor`: the same turn on XState's
 * pure transition (`machine.transition(snapshot, event, scope)`) instead of a live actor with an inspection callback.
 * Only what a turn costs is here (constructor, `step`, `record`): timer firing, effect outcomes and the other
 * bookkeeping `HostedActor` does between turns are the same either way.
 *
 * XState's exported `transition(logic, snapshot, event)` is not used as is: it builds a whole actor (and so the
 * machine's initial state) per call, which costs more than the live actor's turn. One scope per actor instead, whose
 * action executor captures what each action decided and then runs it as a live actor would; what XState would defer
 * (scheduling a delayed event, starting a child, relaying a sendTo) the scope drops, since the turn has captured it.
 */
import { createActor, type AnyActor, type AnyActorScope, type AnyMachineSnapshot, type ExecutableActionObject, type Snapshot } from 'xstate';
import { parseAddress } from '../../runtime/address.ts';
import { NOTE, PUBLISH, REPLY, TELL, type ActorDefinition, type MailroomEvent } from '../../runtime/actor/define-actor.ts';
import { ActorStepError, stateKey, type ActorRecord, type StepOutput } from '../../runtime/actor/hosted-actor.ts';

const inertClock = { setTimeout: () => 0 as any, clearTimeout: () => {} };
let tokenSeq = 0;
const newToken = (prefix: string) => `${prefix}bench.${(tokenSeq++).toString(36)}`;

export class PureStepActor {
  recordJson = '';
  private readonly self: AnyActor;
  private readonly scope: AnyActorScope;
  private current: AnyMachineSnapshot;
  /** A new actor's initial-state actions, applied by its first turn (as a live actor runs them on `start()`). */
  private initialActions: ExecutableActionObject[] | null = null;
  private collect: ExecutableActionObject[] | null = null;
  private out: StepOutput | null = null;
  /** Events the machine sent itself without delay: a live actor processes them within the same `send`. */
  private relayed: MailroomEvent[] = [];
  private timers: Record<string, string>;
  private effects: Record<string, string>;

  constructor(
    readonly def: ActorDefinition,
    readonly address: string,
    readonly id: string,
    record: ActorRecord | null,
  ) {
    this.timers = { ...(record?.t ?? {}) };
    this.effects = { ...(record?.f ?? {}) };
    // Never started nor sent to: the `self` actions see, and the parent of invoked children.
    this.self = createActor(def.hosted, { clock: inertClock as any, input: this.input(), snapshot: record?.s as Snapshot<unknown> | undefined });
    const self = this.self as any;
    this.scope = {
      self: this.self,
      id: self.id,
      sessionId: self.sessionId,
      logger: self.logger,
      system: self.system,
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      actionExecutor: (action) => (this.collect ? this.collect.push(action) : this.apply(action)),
    };
    this.current = record ? this.self.getSnapshot() : this.initial();
  }

  private input() {
    return { id: this.id, address: this.address };
  }

  private initial(): AnyMachineSnapshot {
    this.collect = [];
    try {
      return this.def.hosted.getInitialSnapshot(this.scope, this.input());
    } finally {
      this.initialActions = this.collect;
      this.collect = null;
    }
  }

  record(): ActorRecord {
    const rec: ActorRecord = { s: this.def.hosted.getPersistedSnapshot(this.current), m: this.def.version };
    if (Object.keys(this.timers).length) rec.t = this.timers;
    if (Object.keys(this.effects).length) rec.f = this.effects;
    return rec;
  }

  step(event: MailroomEvent): StepOutput {
    const initialActions = this.initialActions;
    const timersBefore = { ...this.timers };
    const effectsBefore = { ...this.effects };
    const before = this.current;
    const out: StepOutput = {
      tells: [],
      notes: [],
      published: [],
      replies: [],
      timersArmed: [],
      timersCancelled: [],
      effectsStarted: [],
      effectsStopped: [],
      from: stateKey(before.value),
      to: '',
      handled: false,
    };
    let cause: unknown = null;
    this.out = out;
    try {
      if (initialActions && before.status !== 'error') for (const action of initialActions) this.apply(action);
      this.current = this.transition(before, event);
      while (this.relayed.length) this.current = this.transition(this.current, this.relayed.shift()!);
      if (this.current.status === 'error') cause = this.current.error;
    } catch (error) {
      cause = error;
    } finally {
      this.out = null;
      this.relayed = [];
    }
    out.handled = this.current !== before;
    if (cause === null) {
      try {
        out.to = stateKey(this.current.value);
        for (const arm of out.timersArmed) {
          for (const [token, timerId] of Object.entries(this.timers)) if (timerId === arm.timerId) delete this.timers[token];
          this.timers[arm.token] = arm.timerId;
        }
        for (const t of out.tells) parseAddress(t.to);
        for (const arm of out.timersArmed) if (!Number.isFinite(arm.delayMs) || arm.delayMs < 0) throw new Error(`bad delay ${arm.delayMs}`);
        this.recordJson = JSON.stringify(this.record());
        this.initialActions = null;
      } catch (error) {
        cause = error;
      }
    }
    if (cause !== null) {
      this.timers = timersBefore;
      this.effects = effectsBefore;
      this.current = initialActions ? this.initial() : before;
      throw new ActorStepError(this.address, event.type, cause);
    }
    return out;
  }

  /** A final or failed machine takes no more events, as a stopped live actor ignores them. */
  private transition(snapshot: AnyMachineSnapshot, event: MailroomEvent): AnyMachineSnapshot {
    return snapshot.status === 'active' ? this.def.hosted.transition(snapshot, event, this.scope) : snapshot;
  }

  private apply(action: ExecutableActionObject): void {
    if (this.out) this.capture(this.out, action.type, action.params as any);
    action.exec?.(action.info, action.params);
  }

  /** What `HostedActor.observe` records from an `@xstate.action` inspection event, from the action itself. */
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
        if (type === 'xstate.sendTo' && params.to !== this.self) throw new Error('delayed sendTo another XState actor is not supported');
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
        if (typeof params?.src !== 'string' || !this.def.effects.has(params.src)) throw new Error(`invoked actor "${String(params?.src)}" is not a declared effect`);
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
