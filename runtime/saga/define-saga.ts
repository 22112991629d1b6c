/**
 * Sagas as explicit, durable state machines. `defineSaga` turns a list of steps — each a command to an actor, the
 * replies that mean success or failure, a compensation, a timeout and a retry policy — into an XState machine with
 * one state per step (`reserveInventory`), one per compensation (`undoReserveInventory`), one per completion command
 * (`commitInventory`), and `completed`, `compensated` and `failedNeedsOperator`: the machine the panel draws is the
 * saga that runs. The saga is an actor on the runtime, so its state, its timeouts and retry pauses (durable timers)
 * and its outgoing commands survive a crash.
 *
 * Rules: a step that is *rejected* took no effect, so the compensations of the steps before it run, in reverse; a
 * step that *times out* (after its retries), or fails in a way its `uncertain` says may have taken effect, runs its
 * own compensation first. Every command carries `replyTo` (the saga's address) and `commandId`, an id per attempt
 * (`<saga id>/<step>/<attempt>`, `<saga id>/<step>:undo/<round>.<attempt>`, `<saga id>/<completion>/<round>.<attempt>`),
 * also the message id, so a re-sent command is dropped by the receiver. Participants echo it, and the saga only
 * heeds the reply of the attempt it is waiting for: a late answer to an attempt it gave up on (or a repeat) is
 * ignored and shows in the panel as a `saga.replyIgnored` inspection event. Once every step succeeded, the
 * completion commands (e.g. commit the reservation) run as steps too — each waits for its acknowledgement, retried
 * like a compensation — and only then is the saga `completed`. Compensations and completions are retried with
 * backoff; when they run out the saga parks in `failedNeedsOperator`, where `saga.retry` resumes what parked and
 * `saga.resolve` closes it by hand.
 */
import { assign, setup, type AnyStateMachine } from 'xstate';
import { defineActor, note, publish, tell, type ActorDefinition, type MailroomEvent, type Migration } from '../actor/define-actor.ts';
import { systemClock, systemRandom, type Clock, type Random } from '../clock.ts';
import { retryAfterOf, retryDelayMs, type SagaRetryPolicy } from './retry-delay.ts';
import { declareSagaForMetrics } from '../observe/inspection-metrics.ts';

/** A command to a participant: its address and its event (the saga adds `replyTo` and `commandId`). */
export type SagaCommand<C extends MailroomEvent = MailroomEvent> = { to: string; event: C };

/** One reply type of a participant's reply union, or several. */
export type ReplyTypes<R extends { type: string }> = R['type'] | R['type'][];

/**
 * One step of a saga: a command to one participant, the replies that settle it, and what undoes it. `R` is the
 * participant's reply union and `C` its command union, as its protocol declares them (both default to any event):
 * with them, a reply type that the participant never sends, or a command it does not take, does not compile.
 */
export type SagaStep<D, R extends { type: string } = MailroomEvent, C extends MailroomEvent = MailroomEvent> = {
  name: string;
  /** The command; the saga adds `replyTo` and `commandId` to its event. */
  command: (data: D) => SagaCommand<C>;
  /** Reply types that mean the step succeeded. */
  succeeded: ReplyTypes<R>;
  /**
   * Reply types that mean it was rejected. A reply with `retryable: true` is retried while attempts remain; one that
   * also carries `retryAfterMs` is retried no sooner than that, without using up an attempt (see `retry`).
   */
  failed?: ReplyTypes<R>;
  /** Data to keep from the success reply (e.g. a charge id for the refund). */
  onSuccess?: (data: D, reply: R) => Partial<D>;
  /** Undoes the step; it also gets why the saga is unwinding (e.g. to cancel an order with the reason). */
  compensation?: { command: (data: D, why: { reason: string; failedStep: string }) => SagaCommand<C>; succeeded: ReplyTypes<R>; failed?: ReplyTypes<R> };
  /** Time allowed per attempt. Default 10 s. */
  timeoutMs?: number;
  /**
   * Attempts on timeout or retryable failure (default 1: no retry), the pause between them (default 200 ms,
   * jittered between half and all of it), and `retryAfterBudgetMs` (default 5 s): how long from the step's start
   * the saga waits out retryable failures that carry `retryAfterMs` (no sooner than asked, without counting them as
   * attempts); one whose wait would end later fails the step at once (see `defineSaga`).
   */
  retry?: { maxAttempts: number; backoffMs?: number; retryAfterBudgetMs?: number };
  /**
   * Whether a failure reply leaves the step's outcome unknown (e.g. "the card processor did not answer in time": it
   * may have charged). Such a failure, once no attempt is left, unwinds like a timeout: the step's own compensation
   * runs first. By default a failure reply means the step took no effect.
   */
  uncertain?: (reply: R) => boolean;
};

/**
 * A command the saga sends once every step succeeded (e.g. commit the reservation), as a step of its own: it waits
 * for a `succeeded` reply, retrying like a compensation. A `failed` reply parks the saga unless it is `retryable`.
 * Participants must take it idempotently: it may arrive more than once. `R` and `C` as for `SagaStep`.
 */
export type SagaCompletionStep<D, R extends { type: string } = MailroomEvent, C extends MailroomEvent = MailroomEvent> = {
  name: string;
  command: (data: D) => SagaCommand<C>;
  succeeded: ReplyTypes<R>;
  failed?: ReplyTypes<R>;
};

export type SagaOptions<D> = {
  /** The saga's actor type (lower-case, dashes). */
  name: string;
  // Each step is typed by its own participant's replies and commands (see `SagaStep`); the list holds them all.
  steps: SagaStep<D, any, any>[];
  /**
   * How compensations and completion commands are retried: `maxAttempts` (default 8) tries of `timeoutMs` (10 s)
   * each, exponential backoff from `baseBackoffMs` (200 ms) to `maxBackoffMs` (10 s) with jitter, and
   * `retryAfterBudgetMs` (default 10 min) spent waiting out "retry after" answers without counting them as tries.
   */
  compensation?: { maxAttempts?: number; baseBackoffMs?: number; maxBackoffMs?: number; timeoutMs?: number; retryAfterBudgetMs?: number };
  /** Commands to see acknowledged once every step succeeded, in order, before the saga is `completed`. */
  completion?: SagaCompletionStep<D, any, any>[];
  clock?: Clock;
  /** Jitter of the retry pauses. */
  random?: Random;
  passivateAfterMs?: number;
  /** The saga machine's version and its migrations from older ones, as for `defineActor` (see `ActorOptions`). */
  version?: number;
  migrate?: Record<number, Migration>;
  /** How many committed versions each saga keeps for time travel, as for `defineActor` (default `SAGA_HISTORY_KEEP`, 50; 0 = none). */
  history?: { keep?: number };
};

export type SagaLogEntry = {
  at: number;
  step: string;
  phase: 'started' | 'succeeded' | 'failed' | 'timedOut' | 'retrying' | 'compensating' | 'compensated' | 'parked' | 'completed';
  attempt?: number;
  durationMs?: number;
  reason?: string;
};

export type SagaContext<D> = {
  id: string;
  address: string;
  data: D;
  status: 'idle' | 'running' | 'compensating' | 'completed' | 'compensated' | 'parked';
  /** Tries of the current step, compensation or completion so far (part of their command ids). */
  attempt: number;
  /** Of those, the ones answered "retry after" and waited out within the budget: they do not use up attempts. */
  deferred: number;
  /** The pause before the next try (what the durable timer of the `waiting` substate waits). */
  retryDelayMs: number;
  stepStartedAt: number;
  startedAt: number;
  finishedAt: number;
  failedStep: string;
  reason: string;
  parkedAt: string;
  /** Operator retries so far: part of compensation command ids, so a resumed compensation is not dropped as a repeat. */
  round: number;
  log: SagaLogEntry[];
};

export type Saga<D> = { definition: ActorDefinition; machine: AnyStateMachine; options: SagaOptions<D> };

const LOG_LIMIT = 200;
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** The state of a step's compensation: `chargePayment` → `undoChargePayment`. */
export const undoName = (step: string) => `undo${step[0]!.toUpperCase()}${step.slice(1)}`;

/**
 * Builds a saga's machine and actor type.
 *
 * Retries: a step retries on a timeout or a `retryable` failure while it has attempts left; compensations and
 * completion commands retry on any failure (a completion on a `retryable` one) the same way, then park. The pause
 * before the next try is the backoff with jitter, or the failure's `retryAfterMs` if that is longer (an open circuit
 * breaker at the participant). Waiting out such an answer does not use up an attempt — ten tries against a breaker
 * that stays open 30 s would otherwise all be spent in vain — as long as the wait ends within the retry-after budget,
 * counted from the first try. Past it, the two kinds part ways:
 * - a compensation or completion command, which must go through (budget `compensation.retryAfterBudgetMs`, 10 min),
 *   counts each further "retry after" as an attempt, still waiting as long as asked, so a participant that keeps
 *   saying "later" parks the saga for an operator instead of holding it forever;
 * - a forward step (budget `retry.retryAfterBudgetMs`, 5 s: a hiccup, not an outage) gives up at once and unwinds:
 *   trying sooner than asked would fail the same way, and a saga that cannot move on had better release what it
 *   holds than wait out another service's outage. Set the budget to 0 to never wait on a step.
 * Every pause is a durable timer (its delay kept in the context, so a crash does not change it).
 *
 * @example
 * const transfer = defineSaga<{ from: string; to: string; amount: number }>({
 *   name: 'transfer',
 *   steps: [
 *     { name: 'debit', command: (d) => ({ to: `bank/account/${d.from}`, event: { type: 'debit', amount: d.amount } }),
 *       succeeded: 'bank.debited', failed: 'bank.refused', retry: { maxAttempts: 3, retryAfterBudgetMs: 60_000 },
 *       compensation: { command: (d) => ({ to: `bank/account/${d.from}`, event: { type: 'credit', amount: d.amount } }), succeeded: 'bank.credited' } },
 *     { name: 'credit', command: (d) => ({ to: `bank/account/${d.to}`, event: { type: 'credit', amount: d.amount } }), succeeded: 'bank.credited' },
 *   ],
 *   completion: [{ name: 'notify', command: (d) => ({ to: `bank/ledger/${d.from}`, event: { type: 'settle' } }), succeeded: 'bank.settled' }],
 * });
 * // host transfer.definition in a node, then: node.send('bank/transfer/t1', { type: 'saga.start', data: { … } })
 */
/** Versions a saga keeps for time travel by default: a saga's turns are few and its history is what an operator reads. */
export const SAGA_HISTORY_KEEP = 50;

export function defineSaga<D extends Record<string, unknown>>(options: SagaOptions<D>): Saga<D> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const steps = options.steps;
  const completion = options.completion ?? [];
  if (steps.length === 0) throw new Error(`saga ${options.name} has no steps`);
  const names = new Set<string>();
  for (const s of [...steps, ...completion]) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(s.name)) throw new Error(`saga ${options.name}: step name "${s.name}" must be camelCase`);
    if (names.has(s.name)) throw new Error(`saga ${options.name}: step "${s.name}" appears twice`);
    names.add(s.name);
  }
  declareSagaForMetrics(options.name, steps[0]!.name);
  const comp = { maxAttempts: 8, baseBackoffMs: 200, maxBackoffMs: 10_000, timeoutMs: 10_000, retryAfterBudgetMs: 10 * 60_000, ...options.compensation };
  const compPolicy: SagaRetryPolicy = { ...comp, multiplier: 2 };

  type Ctx = SagaContext<D>;
  type Args = { context: Ctx; event: any };
  const root = (state: string) => `#${options.name}.${state}`;

  /** The compensation state to enter when unwinding from step index `i` downwards (inclusive). */
  const unwindFrom = (i: number): string => {
    for (let k = i; k >= 0; k--) if (steps[k]!.compensation) return undoName(steps[k]!.name);
    return 'compensated';
  };

  const entry = (_ctx: Ctx, step: string, phase: SagaLogEntry['phase'], extra: Partial<SagaLogEntry> = {}): SagaLogEntry => ({
    at: clock.now(),
    step,
    phase,
    ...extra,
  });
  const appendLog = (ctx: Ctx, e: SagaLogEntry) => [...ctx.log.slice(-(LOG_LIMIT - 1)), e];
  /**
   * Logs to the context, the event log and the inspection stream in one go. `patch` is the transition's other changes
   * to the context, made in the same assign before the entries (which see its result): each assign rebuilds XState's
   * snapshot, the costliest part of a saga's step, so a transition assigns once.
   */
  const record = (make: ((a: Args) => SagaLogEntry) | Array<(a: Args) => SagaLogEntry>, patch?: (a: Args) => Partial<Ctx>): any[] => {
    const makes = Array.isArray(make) ? make : [make];
    // More entries than the log keeps (a `saga.start` naming 100 done steps or more): one assign each, so that each is
    // still in the log when it is published.
    if (makes.length > LOG_LIMIT) return [...record(makes[0]!, patch), ...makes.slice(1).flatMap((m) => record(m))];
    const nth = (a: Args, i: number) => a.context.log[a.context.log.length - makes.length + i]!;
    return [
      assign((a: Args) => {
        const changes = patch?.(a) ?? {};
        let context: Ctx = patch ? { ...a.context, ...changes } : a.context;
        for (const m of makes) context = { ...context, log: appendLog(context, m({ context, event: a.event })) };
        return { ...changes, log: context.log };
      }),
      ...makes.flatMap((_, i) => [
        publish((a: Args) => ({ type: 'SagaStep', saga: options.name, sagaId: a.context.id, ...nth(a, i) })),
        note((a: Args) => {
          const e = nth(a, i);
          return { type: 'saga.step', saga: options.name, sagaId: a.context.id, step: e.step, phase: e.phase, reason: e.reason, durationMs: e.durationMs };
        }),
      ]),
    ];
  };
  const reasonOf = (event: any, fallback: string) =>
    typeof event.reason === 'string' && event.reason ? event.reason : typeof event.error?.message === 'string' ? event.error.message : fallback;

  /**
   * Replies to one state's commands: `current` is the command id of the attempt it waits for, `prefix` what every
   * attempt's id starts with. A success is heeded from the current attempt (even once its timeout passed, while the
   * next one waits to be sent); a failure only while that attempt is in flight (`sending`). Any other reply to the
   * state's commands — a late answer to an attempt the saga gave up on — is ignored, and noted for the panel.
   */
  const correlation = (state: string, prefix: (ctx: Ctx) => string, current: (ctx: Ctx) => string) => {
    const ours = ({ context, event }: Args) => typeof event.commandId === 'string' && event.commandId.startsWith(prefix(context));
    const ignore = note(({ context, event }: Args) => ({
      type: 'saga.replyIgnored',
      saga: options.name,
      sagaId: context.id,
      step: state,
      reply: event.type,
      commandId: event.commandId,
      reason: `a reply to an attempt the saga has given up on (its current attempt is ${current(context)})`,
    }));
    return {
      id: current,
      mine: ({ context, event }: Args) => event.commandId === current(context),
      /** For success replies that are not the current attempt's. */
      stale: { guard: (a: Args) => ours(a) && a.event.commandId !== current(a.context), actions: ignore },
      /** For failure replies the `sending` substate did not take. */
      ignored: { guard: ours, actions: ignore },
    };
  };

  /** Whether a failure says "retry after" and waiting it out ends within the budget: then it is not an attempt used up. */
  const waitsOut = (p: SagaRetryPolicy, { context, event }: Args) => {
    const after = retryAfterOf(event);
    return after > 0 && clock.now() - context.stepStartedAt + after <= p.retryAfterBudgetMs;
  };
  const attemptsLeft = (p: SagaRetryPolicy, context: Ctx) => context.attempt - (context.deferred ?? 0) < p.maxAttempts;
  const mayRetry = (p: SagaRetryPolicy) => (a: Args) => waitsOut(p, a) || attemptsLeft(p, a.context);
  /** Counts the try and sets the pause before the next one. */
  const scheduleRetry =
    (p: SagaRetryPolicy) =>
    (a: Args): Partial<Ctx> => ({
      deferred: (a.context.deferred ?? 0) + (waitsOut(p, a) ? 1 : 0),
      retryDelayMs: retryDelayMs(p, a.context.attempt, random, retryAfterOf(a.event)),
    });
  const startTries = (): Partial<Ctx> => ({ stepStartedAt: clock.now(), attempt: 1, deferred: 0, retryDelayMs: 0 });
  const sendCommand = (make: (ctx: Ctx) => SagaCommand, id: (ctx: Ctx) => string) =>
    tell(
      ({ context }: Args) => make(context).to,
      ({ context }: Args) => ({ ...make(context).event, replyTo: context.address, commandId: id(context) }),
      { id: ({ context }: Args) => id(context) },
    );
  /** `sending` (one try, with its timeout) and `waiting` (the pause before the next, a durable timer). */
  const tries = (send: any, timeoutMs: number, onTimeout: any[], failures: Record<string, any[]>) => ({
    initial: 'sending',
    states: {
      sending: { entry: send, after: { [timeoutMs]: onTimeout }, on: failures },
      waiting: { after: { retryDelay: { target: 'sending', actions: assign({ attempt: ({ context }: Args) => context.attempt + 1 }) } } },
    },
  });

  /**
   * `saga.start` may name, in `done`, the first steps its sender already took in the very turn that sent it (the
   * order actor creates the order and starts the saga in one atomic turn): each is logged as started and succeeded
   * and the saga begins at the next, saving the turns that would only echo it. `done` must be some of the first
   * steps, in order, leaving at least one; anything else fails the start with a message saying so (the message is
   * retried, then dead-lettered). A done step's log has no duration: it took no time of the saga's, and a 0 would
   * skew its step-duration metric.
   */
  const stepNames = steps.map((s) => s.name);
  const doneCount = (event: any): number | null => {
    const done: unknown = event.done ?? [];
    if (!Array.isArray(done) || done.length >= steps.length || done.some((name, i) => name !== stepNames[i])) return null;
    return done.length;
  };
  const startAt = (k: number) => ({
    guard: ({ event }: Args) => doneCount(event) === k,
    target: steps[k]!.name,
    actions: record(
      steps.slice(0, k).flatMap((step) => [
        ({ context }: Args) => entry(context, step.name, 'started', { attempt: 1 }),
        ({ context }: Args) => entry(context, step.name, 'succeeded', { attempt: 1, reason: 'taken by the turn that started the saga' }),
      ]),
      ({ event }) => ({ data: event.data as D, status: 'running', startedAt: clock.now() }),
    ),
  });
  const badStart = ({ event }: Args): never => {
    throw new Error(`saga ${options.name}: saga.start's "done" must list some of its first steps in order, leaving at least one (${stepNames.join(', ')}), got ${JSON.stringify(event.done)}`);
  };
  const states: Record<string, any> = {
    idle: {
      on: { 'saga.start': [...Array.from({ length: steps.length }, (_, k) => startAt(k)), { actions: badStart }] },
    },
  };

  steps.forEach((step, i) => {
    const timeoutMs = step.timeoutMs ?? 10_000;
    const maxAttempts = step.retry?.maxAttempts ?? 1;
    const backoffMs = step.retry?.backoffMs ?? 200;
    const policy: SagaRetryPolicy = { maxAttempts, baseBackoffMs: backoffMs, maxBackoffMs: backoffMs, multiplier: 1, retryAfterBudgetMs: step.retry?.retryAfterBudgetMs ?? 5_000 };
    const next = i + 1 < steps.length ? steps[i + 1]!.name : completion.length > 0 ? completion[0]!.name : 'completed';
    const reply = correlation(step.name, (c) => `${c.id}/${step.name}/`, (c) => `${c.id}/${step.name}/${c.attempt}`);
    const fail = (why: 'failed' | 'timedOut', target: string) => ({
      target,
      actions: record(
        ({ context }) => entry(context, step.name, why, { attempt: context.attempt, reason: context.reason, durationMs: clock.now() - context.stepStartedAt }),
        ({ event }) => ({
          status: 'compensating',
          failedStep: step.name,
          reason: why === 'timedOut' ? `${step.name} timed out after ${maxAttempts} × ${timeoutMs} ms` : reasonOf(event, `${step.name} failed`),
        }),
      ),
    });
    states[step.name] = {
      entry: record(({ context }) => entry(context, step.name, 'started', { attempt: context.attempt }), startTries),
      ...tries(sendCommand((c) => step.command(c.data), reply.id), timeoutMs, [
        {
          guard: ({ context }: Args) => attemptsLeft(policy, context),
          target: 'waiting',
          actions: record(({ context }) => entry(context, step.name, 'retrying', { attempt: context.attempt, reason: `no reply within ${timeoutMs} ms` }), scheduleRetry(policy)),
        },
        fail('timedOut', root(unwindFrom(i))),
      ], Object.fromEntries(
        list(step.failed).map((type) => [
          type,
          [
            {
              // A "retry after" is waited out within the budget, or not at all; other retryable failures use attempts.
              guard: (a: Args) => reply.mine(a) && a.event.retryable === true && (retryAfterOf(a.event) > 0 ? waitsOut(policy, a) : attemptsLeft(policy, a.context)),
              target: 'waiting',
              actions: record(({ context, event }) => entry(context, step.name, 'retrying', { attempt: context.attempt, reason: reasonOf(event, 'failed') }), scheduleRetry(policy)),
            },
            ...(step.uncertain ? [{ guard: (a: Args) => reply.mine(a) && step.uncertain!(a.event), ...fail('failed', root(unwindFrom(i))) }] : []),
            { guard: reply.mine, ...fail('failed', root(unwindFrom(i - 1))) },
          ],
        ]),
      )),
      on: {
        ...Object.fromEntries(
          list(step.succeeded).map((type) => [
            type,
            [
              {
                guard: reply.mine,
                target: next,
                actions: record(
                  ({ context }) => entry(context, step.name, 'succeeded', { attempt: context.attempt, durationMs: clock.now() - context.stepStartedAt }),
                  ({ context, event }) => ({ data: { ...context.data, ...(step.onSuccess?.(context.data, event) ?? {}) } }),
                ),
              },
              reply.stale,
            ],
          ]),
        ),
        ...Object.fromEntries(list(step.failed).map((type) => [type, reply.ignored])),
      },
    };

    if (step.compensation) {
      const c = step.compensation;
      const undo = undoName(step.name);
      const reply = correlation(undo, (ctx) => `${ctx.id}/${step.name}:undo/`, (ctx) => `${ctx.id}/${step.name}:undo/${ctx.round}.${ctx.attempt}`);
      const retryOrPark = (why: string) => [
        {
          guard: mayRetry(compPolicy),
          target: 'waiting',
          actions: record(({ context, event }) => entry(context, undo, 'retrying', { attempt: context.attempt, reason: reasonOf(event, why) }), scheduleRetry(compPolicy)),
        },
        {
          target: root('failedNeedsOperator'),
          actions: record(
            ({ context, event }) => entry(context, undo, 'parked', { attempt: context.attempt, reason: `compensation failed ${context.attempt} times: ${reasonOf(event, 'no reply')}` }),
            () => ({ status: 'parked', parkedAt: undo }),
          ),
        },
      ];
      states[undo] = {
        entry: record(({ context }) => entry(context, undo, 'compensating'), startTries),
        ...tries(
          sendCommand((ctx) => c.command(ctx.data, ctx), reply.id),
          comp.timeoutMs,
          retryOrPark(`no reply within ${comp.timeoutMs} ms`),
          Object.fromEntries(
            list(c.failed).map((type) => [type, retryOrPark('compensation failed').map((t) => ({ ...t, guard: (a: Args) => reply.mine(a) && (!t.guard || t.guard(a)) }))]),
          ),
        ),
        on: {
          ...Object.fromEntries(
            list(c.succeeded).map((type) => [
              type,
              [
                {
                  guard: reply.mine,
                  target: unwindFrom(i - 1),
                  actions: record(({ context }) => entry(context, undo, 'compensated', { attempt: context.attempt, durationMs: clock.now() - context.stepStartedAt })),
                },
                reply.stale,
              ],
            ]),
          ),
          ...Object.fromEntries(list(c.failed).map((type) => [type, reply.ignored])),
        },
      };
    }
  });

  completion.forEach((done, i) => {
    const next = i + 1 < completion.length ? completion[i + 1]!.name : 'completed';
    const reply = correlation(done.name, (c) => `${c.id}/${done.name}/`, (c) => `${c.id}/${done.name}/${c.round}.${c.attempt}`);
    const park = {
      target: root('failedNeedsOperator'),
      actions: record(
        ({ context }) => entry(context, done.name, 'parked', { attempt: context.attempt, reason: `after ${context.attempt} tries: ${context.reason}` }),
        ({ event }) => ({ status: 'parked', parkedAt: done.name, reason: `${done.name} failed: ${reasonOf(event, 'no reply')}` }),
      ),
    };
    const retry = (why: string, guard: (a: Args) => boolean) => ({
      guard,
      target: 'waiting',
      actions: record(({ context, event }) => entry(context, done.name, 'retrying', { attempt: context.attempt, reason: reasonOf(event, why) }), scheduleRetry(compPolicy)),
    });
    states[done.name] = {
      entry: record(({ context }) => entry(context, done.name, 'started', { attempt: context.attempt }), startTries),
      ...tries(sendCommand((c) => done.command(c.data), reply.id), comp.timeoutMs, [
        retry(`no reply within ${comp.timeoutMs} ms`, mayRetry(compPolicy)),
        park,
      ], Object.fromEntries(
        list(done.failed).map((type) => [
          type,
          [retry('failed', (a: Args) => reply.mine(a) && a.event.retryable === true && mayRetry(compPolicy)(a)), { ...park, guard: reply.mine }],
        ]),
      )),
      on: {
        ...Object.fromEntries(
          list(done.succeeded).map((type) => [
            type,
            [
              {
                guard: reply.mine,
                target: next,
                actions: record(
                  ({ context }) => entry(context, done.name, 'succeeded', { attempt: context.attempt, durationMs: clock.now() - context.stepStartedAt }),
                  () => ({ status: 'running', reason: '' }),
                ),
              },
              reply.stale,
            ],
          ]),
        ),
        ...Object.fromEntries(list(done.failed).map((type) => [type, reply.ignored])),
      },
    };
  });

  states.completed = {
    type: 'final',
    entry: record(
      ({ context }) => entry(context, 'saga', 'completed', { durationMs: clock.now() - context.startedAt, ...(context.reason ? { reason: context.reason } : {}) }),
      () => ({ status: 'completed', finishedAt: clock.now() }),
    ),
  };
  states.compensated = {
    type: 'final',
    entry: record(
      ({ context }) => entry(context, 'saga', 'compensated', { durationMs: clock.now() - context.startedAt, reason: context.reason }),
      () => ({ status: 'compensated', finishedAt: clock.now() }),
    ),
  };
  const undoStates = steps.filter((s) => s.compensation).map((s) => undoName(s.name));
  const completionStates = new Set(completion.map((s) => s.name));
  const resolvedBy = ({ context, event }: Args) => [context.reason, `resolved by operator${event.note ? `: ${event.note}` : ''}`].filter(Boolean).join('; ');
  states.failedNeedsOperator = {
    on: {
      'saga.retry': [...undoStates, ...completionStates].map((u) => ({
        guard: ({ context }: Args) => context.parkedAt === u,
        target: u,
        actions: assign({ status: completionStates.has(u) ? ('running' as const) : ('compensating' as const), round: ({ context }: Args) => context.round + 1 }),
      })),
      // What parked decides how it closes: a compensation as compensated, a completion command as completed.
      'saga.resolve': [
        { guard: ({ context }: Args) => completionStates.has(context.parkedAt), target: 'completed', actions: assign({ reason: resolvedBy }) },
        { target: 'compensated', actions: assign({ reason: resolvedBy }) },
      ],
    },
  };

  const machine = setup({
    types: {} as { context: Ctx; input: { id: string; address: string } },
    delays: {
      retryDelay: ({ context }: Args) => context.retryDelayMs ?? 0,
    },
  }).createMachine({
    id: options.name,
    initial: 'idle',
    context: ({ input }: { input: { id: string; address: string } }) => ({
      id: input.id,
      address: input.address,
      data: {} as D,
      status: 'idle',
      attempt: 1,
      deferred: 0,
      retryDelayMs: 0,
      stepStartedAt: 0,
      startedAt: 0,
      finishedAt: 0,
      failedStep: '',
      reason: '',
      parkedAt: '',
      round: 0,
      log: [],
    }),
    states,
  } as any);

  return { definition: defineActor(options.name, machine as AnyStateMachine, { passivateAfterMs: options.passivateAfterMs, version: options.version, migrate: options.migrate, history: options.history ?? { keep: SAGA_HISTORY_KEEP } }), machine: machine as AnyStateMachine, options };
}
