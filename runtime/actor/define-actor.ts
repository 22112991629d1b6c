/**
 * Declaring actor types: an XState v5 machine plus the runtime's own actions (`tell`, `publish`, `reply`) and
 * effects. The runtime hosts a copy of the machine whose invoked promise actors never run inside the turn; it runs
 * the real ones itself, after the turn has committed, with an idempotency key, and delivers their outcome back
 * through the mailbox as `xstate.done.actor.<id>` / `xstate.error.actor.<id>` events.
 */
import { emit, fromPromise, type AnyStateMachine, type PromiseActorLogic, type StateValue } from 'xstate';

/** What a runtime action receives, as XState gives it to action functions. */
export type ActionArgs = { context: any; event: any };
type Resolvable<T> = T | ((args: ActionArgs) => T);

export type MailroomEvent = { type: string; [key: string]: unknown };

/** Emitted by `tell`, `publish`, `reply`; the runtime turns them into outgoing messages, events and replies. */
export const TELL = '@mailroom.tell';
export const PUBLISH = '@mailroom.publish';
export const REPLY = '@mailroom.reply';
export const NOTE = '@mailroom.note';

const resolve = <T>(value: Resolvable<T>, args: ActionArgs): T =>
  typeof value === 'function' ? (value as (a: ActionArgs) => T)(args) : value;

/**
 * Sends a message to another actor (any service) once this turn commits. Delivery is at-least-once and the
 * receiver drops duplicates, so the message takes effect once. Pass `id` to choose the message id (an idempotency
 * key: a second message with the same id is dropped by the receiver).
 *
 * @example
 * on: { reserve: { actions: tell(({ event }) => `inventory/sku/${event.sku}`, ({ event }) => ({ type: 'reserve', qty: event.qty })) } }
 */
export function tell(to: Resolvable<string>, event: Resolvable<MailroomEvent>, options: { id?: Resolvable<string> } = {}): any {
  return emit(
    (args: ActionArgs) =>
      ({ type: TELL, to: resolve(to, args), event: resolve(event, args), id: options.id === undefined ? undefined : resolve(options.id, args) }) as any,
  );
}

/**
 * Records an inspection event (from the runtime's union, without `at` and `source`, which the runtime adds) once
 * this turn commits: how a machine makes its own steps visible in the panel, as sagas do.
 *
 * @example
 * entry: note(({ context }) => ({ type: 'saga.step', saga: 'order', sagaId: context.id, step: 'charge', phase: 'started' }))
 */
export function note(event: Resolvable<Record<string, unknown> & { type: string }>): any {
  return emit((args: ActionArgs) => ({ type: NOTE, event: resolve(event, args) }) as any);
}

/**
 * Appends a domain event to the service's event log, in the same atomic step as the new state.
 * The runtime adds `id`, `type`, `aggregate` (the actor's address) and `at`.
 *
 * @example
 * entry: publish(({ context }) => ({ type: 'OrderConfirmed', data: { total: context.total } }))
 */
export function publish(event: Resolvable<MailroomEvent>): any {
  return emit((args: ActionArgs) => ({ type: PUBLISH, event: resolve(event, args) }) as any);
}

/**
 * Answers the message being processed when it came through `node.ask` (ignored otherwise).
 *
 * @example
 * on: { get: { actions: reply(({ context }) => ({ stock: context.onHand })) } }
 */
export function reply(data: (args: ActionArgs) => unknown): any;
export function reply(data: unknown): any;
export function reply(data: Resolvable<unknown>): any {
  return emit((args: ActionArgs) => ({ type: REPLY, data: resolve(data, args) }) as any);
}

/** What an effect function receives. */
export type EffectArgs<TInput> = {
  input: TInput;
  /** Stable across re-runs of this invocation: pass it to the outside system so it can drop repeats. */
  idempotencyKey: string;
  /** Aborted when the node stops or loses the partition. */
  signal: AbortSignal;
};
export type EffectFn<TInput = any, TOutput = any> = (args: EffectArgs<TInput>) => Promise<TOutput>;

const EFFECT = Symbol.for('mailroom.effect');

/**
 * A call to the outside world for use in `invoke`. It runs at-least-once, outside the atomic turn, with a stable
 * idempotency key; its result comes back as a message.
 *
 * @example
 * actors: { charge: effect(async ({ input, idempotencyKey }) => provider.charge(input.amount, idempotencyKey)) }
 */
export function effect<TInput, TOutput>(fn: EffectFn<TInput, TOutput>): PromiseActorLogic<TOutput, TInput> {
  const logic = fromPromise<TOutput, TInput>(({ input, signal }) => fn({ input, signal, idempotencyKey: 'in-process' }));
  (logic as any)[EFFECT] = fn;
  return logic;
}

export type ActorOptions = {
  /** How long an actor may sit idle in memory before it is passivated (its state stays in Redis). Default 60 s. */
  passivateAfterMs?: number;
  /**
   * How long the record of an actor that reached a final state is kept (for reads, lists and the panel) before
   * it and its index line are removed. Default 7 days; `Infinity` keeps it forever. A message that reaches the
   * actor after that starts a new one from the machine's initial state (within the dedup window a repeat is
   * still dropped).
   */
  retainDoneMs?: number;
  /**
   * Time travel: how many of its last committed versions each actor keeps (state, record and the messages that made
   * each), for `…/history` and `…/at/:version`. Default 0 (none) for actors, 50 for sagas: each version kept costs a
   * copy of the record per turn (+35 % Redis CPU per message on `bench mailbox` at 50), so an actor type opts in.
   * Written by the commit script in the same atomic step as the record, so a version listed is exactly one that was
   * committed.
   */
  history?: { keep?: number };
  /**
   * The version of this definition (an integer ≥ 1, default 1). Raise it when the machine changes in a way a record
   * written by the old one would not fit (a state renamed or removed, a context field added), and give `migrate` a
   * step from the previous version. Every record stores the version that wrote it.
   */
  version?: number;
  /**
   * Migrations, keyed by the version they start from: `migrate[n]` turns the snapshot of a record written by
   * version n into one version n + 1 can run. A record of an older version runs through them in turn (1 → 2 → 3);
   * one with no path, or whose migration throws (`cannotMigrate(reason)` says why), is dead-lettered with the reason.
   */
  migrate?: Record<number, Migration>;
};

/** A persisted XState snapshot as a migration sees it: the state value and the context are what usually change. */
export type PersistedSnapshot = { value: StateValue; context: any; status: string; [field: string]: unknown };

/** Turns a record's snapshot written by version n into one version n + 1 can run (see `ActorOptions.migrate`). */
export type Migration = (snapshot: PersistedSnapshot) => PersistedSnapshot;

export type ActorDefinition = {
  readonly type: string;
  /** The machine as written: what the panel draws. */
  readonly machine: AnyStateMachine;
  /** The machine the runtime runs: invoked promise actors replaced by ones that never settle. */
  readonly hosted: AnyStateMachine;
  readonly effects: ReadonlyMap<string, EffectFn>;
  readonly options: Required<Pick<ActorOptions, 'passivateAfterMs' | 'retainDoneMs'>> & { historyKeep: number };
  /** The version records written by this definition carry. */
  readonly version: number;
  /** Migrations by the version they start from. */
  readonly migrations: ReadonlyMap<number, Migration>;
};

const TYPE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const inert = fromPromise(() => new Promise<never>(() => {}));

/**
 * Declares an actor type. The machine's context factory receives `input = { id, address }`.
 *
 * @example
 * const counter = defineActor('counter', setup({}).createMachine({
 *   context: { n: 0 },
 *   on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
 * }));
 * // Later the machine changes: state `busy` became `working`, the context gained `limit`.
 * const counterV2 = defineActor('counter', machineV2, {
 *   version: 2,
 *   migrate: { 1: (snapshot) => ({ ...renameStates(snapshot, { busy: 'working' }), context: { ...snapshot.context, limit: 10 } }) },
 * });
 */
export function defineActor(type: string, machine: AnyStateMachine, options: ActorOptions = {}): ActorDefinition {
  if (!TYPE_NAME.test(type)) throw new Error(`actor type "${type}" must be lower-case letters, digits and dashes`);
  const implementations = (machine.implementations?.actors ?? {}) as Record<string, unknown>;
  const effects = new Map<string, EffectFn>();
  const stubs: Record<string, unknown> = {};
  for (const [src, logic] of Object.entries(implementations)) {
    const own = (logic as any)?.[EFFECT] as EffectFn | undefined;
    const config = (logic as any)?.config;
    if (own) effects.set(src, own);
    else if (typeof config === 'function') {
      // A plain fromPromise: run its creator the same way, without the key.
      effects.set(src, ({ input, signal }) => config({ input, signal, self: undefined, system: undefined, emit: () => {} }));
    } else {
      throw new Error(`actor type "${type}": invoked actor "${src}" is not a promise; only promise effects are supported`);
    }
    stubs[src] = inert;
  }
  const hosted = Object.keys(stubs).length ? machine.provide({ actors: stubs as any }) : machine;
  const version = options.version ?? 1;
  return {
    type,
    machine,
    hosted,
    effects,
    options: { passivateAfterMs: options.passivateAfterMs ?? 60_000, retainDoneMs: options.retainDoneMs ?? 7 * 24 * 3_600_000, historyKeep: historyKeepOf(type, options.history) },
    version,
    migrations: migrationsOf(type, version, options.migrate ?? {}),
  };
}

/** Versions an actor keeps unless its type says otherwise: none (history is opt-in; sagas keep `SAGA_HISTORY_KEEP`). */
export const DEFAULT_HISTORY_KEEP = 0;

/** How many versions an actor of this type keeps: a whole number ≥ 0. */
function historyKeepOf(type: string, history: ActorOptions['history']): number {
  const keep = history?.keep ?? DEFAULT_HISTORY_KEEP;
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`actor type "${type}": history.keep must be a whole number ≥ 0 (0 keeps none), got ${String(keep)}`);
  return keep;
}

/** Checks the migrations fit the version: each starts from an older version and is a function. */
function migrationsOf(type: string, version: number, migrate: Record<number, Migration>): Map<number, Migration> {
  if (!Number.isInteger(version) || version < 1) throw new Error(`actor type "${type}": version must be an integer ≥ 1, got ${String(version)}`);
  const out = new Map<number, Migration>();
  for (const [from, step] of Object.entries(migrate)) {
    const n = Number(from);
    if (!Number.isInteger(n) || n < 1 || n >= version) {
      throw new Error(`actor type "${type}" v${version}: migrate[${from}] must start from an older version (an integer from 1 to ${version - 1})`);
    }
    if (typeof step !== 'function') throw new Error(`actor type "${type}" v${version}: migrate[${from}] must be a function (snapshot) => snapshot`);
    out.set(n, step);
  }
  return out;
}
