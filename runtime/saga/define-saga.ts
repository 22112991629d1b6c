/**
 * Sagas as explicit, durable state machines. `defineSaga` turns a list of steps — each a command to an actor, the
 * replies that mean success or failure, a compensation, a timeout and a retry policy — into an XState machine with
 * one state per step (`reserveInventory`), one per compensation (`undoReserveInventory`), and `completed`,
 * `compensated` and `failedNeedsOperator`: the machine the panel draws is the saga that runs. The saga is an actor
 * on the runtime, so its state, its timeouts (durable timers) and its outgoing commands survive a crash.
 *
 * Rules: a step that is *rejected* took no effect, so the compensations of the steps before it run, in reverse; a
 * step that *times out* (after its retries), or fails in a way its `uncertain` says may have taken effect, runs its
 * own compensation first. Commands
 * carry `replyTo` (the saga's address) and `commandId` (`<saga id>/<step>/<attempt>`, also the message id, so a
 * re-sent command is dropped by the receiver); replies are matched by `commandId`, so a late or repeated reply is
 * ignored. Compensations are retried with exponential backoff; after `compensation.maxAttempts` the saga parks in
 * `failedNeedsOperator`, where `saga.retry` resumes the compensation and `saga.resolve` closes it by hand.
 */
import { assign, enqueueActions, setup, type AnyStateMachine } from 'xstate';
import { defineActor, note, publish, tell, type ActorDefinition, type MailroomEvent } from '../actor/define-actor.ts';
import { systemClock, type Clock } from '../clock.ts';

export type SagaCommand = { to: string; event: MailroomEvent };

export type SagaStep<D> = {
  name: string;
  /** The command; the saga adds `replyTo` and `commandId` to its event. */
  command: (data: D) => SagaCommand;
  /** Reply types that mean the step succeeded. */
  succeeded: string | string[];
  /** Reply types that mean it was rejected (a reply with `retryable: true` is retried while attempts remain). */
  failed?: string | string[];
  /** Data to keep from the success reply (e.g. a charge id for the refund). */
  onSuccess?: (data: D, reply: Record<string, unknown>) => Partial<D>;
  /** Undoes the step; it also gets why the saga is unwinding (e.g. to cancel an order with the reason). */
  compensation?: { command: (data: D, why: { reason: string; failedStep: string }) => SagaCommand; succeeded: string | string[]; failed?: string | string[] };
  /** Time allowed per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Attempts on timeout or retryable failure (default 1: no retry) and the pause between them (default 200 ms). */
  retry?: { maxAttempts: number; backoffMs?: number };
  /**
   * Whether a failure reply leaves the step's outcome unknown (e.g. "the card processor did not answer in time": it
   * may have charged). Such a failure, once no attempt is left, unwinds like a timeout: the step's own compensation
   * runs first. By default a failure reply means the step took no effect.
   */
  uncertain?: (reply: Record<string, unknown>) => boolean;
};

export type SagaOptions<D> = {
  /** The saga's actor type (lower-case, dashes). */
  name: string;
  steps: SagaStep<D>[];
  compensation?: { maxAttempts?: number; baseBackoffMs?: number; maxBackoffMs?: number; timeoutMs?: number };
  /** Fire-and-forget commands once the saga completed (e.g. commit the reservation). */
  onCompleted?: (data: D) => SagaCommand[];
  clock?: Clock;
  passivateAfterMs?: number;
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
  attempt: number;
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
const undoName = (step: string) => `undo${step[0]!.toUpperCase()}${step.slice(1)}`;

/**
 * Builds a saga's machine and actor type.
 *
 * @example
 * const transfer = defineSaga<{ from: string; to: string; amount: number }>({
 *   name: 'transfer',
 *   steps: [
 *     { name: 'debit', command: (d) => ({ to: `bank/account/${d.from}`, event: { type: 'debit', amount: d.amount } }),
 *       succeeded: 'bank.debited', failed: 'bank.refused',
 *       compensation: { command: (d) => ({ to: `bank/account/${d.from}`, event: { type: 'credit', amount: d.amount } }), succeeded: 'bank.credited' } },
 *     { name: 'credit', command: (d) => ({ to: `bank/account/${d.to}`, event: { type: 'credit', amount: d.amount } }), succeeded: 'bank.credited' },
 *   ],
 * });
 * // host transfer.definition in a node, then: node.send('bank/transfer/t1', { type: 'saga.start', data: { … } })
 */
export function defineSaga<D extends Record<string, unknown>>(options: SagaOptions<D>): Saga<D> {
  const clock = options.clock ?? systemClock;
  const steps = options.steps;
  if (steps.length === 0) throw new Error(`saga ${options.name} has no steps`);
  const names = new Set<string>();
  for (const s of steps) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(s.name)) throw new Error(`saga ${options.name}: step name "${s.name}" must be camelCase`);
    if (names.has(s.name)) throw new Error(`saga ${options.name}: step "${s.name}" appears twice`);
    names.add(s.name);
  }
  const comp = { maxAttempts: 8, baseBackoffMs: 200, maxBackoffMs: 10_000, timeoutMs: 10_000, ...options.compensation };

  type Ctx = SagaContext<D>;
  type Args = { context: Ctx; event: any };

  /** The compensation state to enter when unwinding from step index `i` downwards (inclusive). */
  const unwindFrom = (i: number): string => {
    for (let k = i; k >= 0; k--) if (steps[k]!.compensation) return undoName(steps[k]!.name);
    return 'compensated';
  };

  const entry = (ctx: Ctx, step: string, phase: SagaLogEntry['phase'], extra: Partial<SagaLogEntry> = {}): SagaLogEntry => ({
    at: clock.now(),
    step,
    phase,
    ...extra,
  });
  const appendLog = (ctx: Ctx, e: SagaLogEntry) => [...ctx.log.slice(-(LOG_LIMIT - 1)), e];
  /** Logs to the context, the event log and the inspection stream in one go. */
  const record = (make: (a: Args) => SagaLogEntry) => [
    assign({ log: (a: Args) => appendLog(a.context, make(a)) }),
    publish((a: Args) => ({ type: 'SagaStep', saga: options.name, sagaId: a.context.id, ...a.context.log[a.context.log.length - 1]! })),
    note((a: Args) => {
      const last = a.context.log[a.context.log.length - 1]!;
      return { type: 'saga.step', saga: options.name, sagaId: a.context.id, step: last.step, phase: last.phase, reason: last.reason, durationMs: last.durationMs };
    }),
  ];
  const forCommand = (prefix: (ctx: Ctx) => string) => ({ context, event }: Args) =>
    typeof event.commandId === 'string' && event.commandId.startsWith(prefix(context));
  const reasonOf = (event: any, fallback: string) =>
    typeof event.reason === 'string' && event.reason ? event.reason : typeof event.error?.message === 'string' ? event.error.message : fallback;

  const states: Record<string, any> = {
    idle: {
      on: {
        'saga.start': {
          target: steps[0]!.name,
          actions: assign({
            data: ({ event }: Args) => event.data as D,
            status: 'running',
            startedAt: () => clock.now(),
            attempt: 1,
          }),
        },
      },
    },
  };

  steps.forEach((step, i) => {
    const timeoutMs = step.timeoutMs ?? 10_000;
    const maxAttempts = step.retry?.maxAttempts ?? 1;
    const backoffMs = step.retry?.backoffMs ?? 200;
    const next = i + 1 < steps.length ? steps[i + 1]!.name : 'completed';
    const mine = forCommand((c) => `${c.id}/${step.name}/`);
    const send = tell(
      ({ context }: Args) => step.command(context.data).to,
      ({ context }: Args) => ({ ...step.command(context.data).event, replyTo: context.address, commandId: `${context.id}/${step.name}/${context.attempt}` }),
      { id: ({ context }: Args) => `${context.id}/${step.name}/${context.attempt}` },
    );
    const fail = (why: 'failed' | 'timedOut', target: string) => ({
      target,
      actions: [
        assign({
          status: 'compensating' as const,
          failedStep: step.name,
          reason: ({ event }: Args) => (why === 'timedOut' ? `${step.name} timed out after ${maxAttempts} × ${timeoutMs} ms` : reasonOf(event, `${step.name} failed`)),
        }),
        ...record(({ context }) => entry(context, step.name, why, { attempt: context.attempt, reason: context.reason, durationMs: clock.now() - context.stepStartedAt })),
      ],
    });
    states[step.name] = {
      initial: 'sending',
      entry: [assign({ stepStartedAt: () => clock.now() }), ...record(({ context }) => entry(context, step.name, 'started', { attempt: context.attempt }))],
      states: {
        sending: {
          entry: send,
          after: {
            [timeoutMs]: [
              {
                guard: ({ context }: Args) => context.attempt < maxAttempts,
                target: 'waiting',
                actions: record(({ context }) => entry(context, step.name, 'retrying', { attempt: context.attempt, reason: `no reply within ${timeoutMs} ms` })),
              },
              fail('timedOut', `#${options.name}.${unwindFrom(i)}`),
            ],
          },
        },
        waiting: {
          after: { [backoffMs]: { target: 'sending', actions: assign({ attempt: ({ context }: Args) => context.attempt + 1 }) } },
        },
      },
      on: {
        ...Object.fromEntries(
          list(step.succeeded).map((type) => [
            type,
            {
              guard: mine,
              target: next,
              actions: [
                assign({ data: ({ context, event }: Args) => ({ ...context.data, ...(step.onSuccess?.(context.data, event) ?? {}) }) }),
                ...record(({ context }) => entry(context, step.name, 'succeeded', { attempt: context.attempt, durationMs: clock.now() - context.stepStartedAt })),
                assign({ attempt: 1 }),
              ],
            },
          ]),
        ),
        ...Object.fromEntries(
          list(step.failed).map((type) => [
            type,
            [
              {
                guard: (a: Args) => mine(a) && a.event.retryable === true && a.context.attempt < maxAttempts,
                target: `.waiting`,
                actions: record(({ context, event }) => entry(context, step.name, 'retrying', { attempt: context.attempt, reason: reasonOf(event, 'failed') })),
              },
              ...(step.uncertain
                ? [{ guard: (a: Args) => mine(a) && step.uncertain!(a.event), ...fail('failed', `#${options.name}.${unwindFrom(i)}`) }]
                : []),
              { guard: mine, ...fail('failed', `#${options.name}.${unwindFrom(i - 1)}`) },
            ],
          ]),
        ),
      },
    };

    if (step.compensation) {
      const c = step.compensation;
      const undo = undoName(step.name);
      const mineUndo = forCommand((ctx) => `${ctx.id}/${step.name}:undo/`);
      const after = unwindFrom(i - 1);
      const park = {
        target: `#${options.name}.failedNeedsOperator`,
        actions: [
          assign({ status: 'parked' as const, parkedAt: undo }),
          ...record(({ context, event }) =>
            entry(context, undo, 'parked', { attempt: context.attempt, reason: `compensation failed ${comp.maxAttempts} times: ${reasonOf(event, 'no reply')}` }),
          ),
        ],
      };
      const retryOrPark = (why: string) => [
        {
          guard: ({ context }: Args) => context.attempt < comp.maxAttempts,
          target: '.waiting',
          actions: record(({ context, event }) => entry(context, undo, 'retrying', { attempt: context.attempt, reason: reasonOf(event, why) })),
        },
        park,
      ];
      states[undo] = {
        initial: 'sending',
        entry: [assign({ stepStartedAt: () => clock.now(), attempt: 1 }), ...record(({ context }) => entry(context, undo, 'compensating'))],
        states: {
          sending: {
            entry: tell(
              ({ context }: Args) => c.command(context.data, context).to,
              ({ context }: Args) => ({ ...c.command(context.data, context).event, replyTo: context.address, commandId: `${context.id}/${step.name}:undo/${context.round}.${context.attempt}` }),
              { id: ({ context }: Args) => `${context.id}/${step.name}:undo/${context.round}.${context.attempt}` },
            ),
            after: { [comp.timeoutMs]: retryOrPark(`no reply within ${comp.timeoutMs} ms`).map((t) => ({ ...t, target: t.target === '.waiting' ? 'waiting' : t.target })) },
          },
          waiting: {
            after: {
              compensationBackoff: { target: 'sending', actions: assign({ attempt: ({ context }: Args) => context.attempt + 1 }) },
            },
          },
        },
        on: {
          ...Object.fromEntries(
            list(c.succeeded).map((type) => [
              type,
              {
                guard: mineUndo,
                target: after,
                actions: record(({ context }) => entry(context, undo, 'compensated', { attempt: context.attempt, durationMs: clock.now() - context.stepStartedAt })),
              },
            ]),
          ),
          ...Object.fromEntries(
            list(c.failed).map((type) => [
              type,
              retryOrPark('compensation failed').map((t) => {
                const own = (t as { guard?: (a: Args) => boolean }).guard;
                return { ...t, guard: (a: Args) => mineUndo(a) && (!own || own(a)) };
              }),
            ]),
          ),
        },
      };
    }
  });

  states.completed = {
    type: 'final',
    entry: [
      assign({ status: 'completed' as const, finishedAt: () => clock.now() }),
      ...record(({ context }) => entry(context, 'saga', 'completed', { durationMs: clock.now() - context.startedAt })),
      ...(options.onCompleted ? [completedCommands(options.onCompleted)] : []),
    ],
  };
  states.compensated = {
    type: 'final',
    entry: [
      assign({ status: 'compensated' as const, finishedAt: () => clock.now() }),
      ...record(({ context }) => entry(context, 'saga', 'compensated', { durationMs: clock.now() - context.startedAt, reason: context.reason })),
    ],
  };
  const undoStates = steps.filter((s) => s.compensation).map((s) => undoName(s.name));
  states.failedNeedsOperator = {
    on: {
      'saga.retry': undoStates.map((u) => ({
        guard: ({ context }: Args) => context.parkedAt === u,
        target: u,
        actions: assign({ status: 'compensating' as const, round: ({ context }: Args) => context.round + 1 }),
      })),
      'saga.resolve': {
        target: 'compensated',
        actions: assign({ reason: ({ context, event }: Args) => `${context.reason}; resolved by operator${event.note ? `: ${event.note}` : ''}` }),
      },
    },
  };

  function completedCommands(make: (data: D) => SagaCommand[]) {
    return enqueueActions(({ context, enqueue }: { context: Ctx; enqueue: any }) => {
      make(context.data).forEach((cmd, n) => enqueue(tell(cmd.to, cmd.event, { id: `${context.id}/completed/${n}` })));
    });
  }

  const machine = setup({
    types: {} as { context: Ctx; input: { id: string; address: string } },
    delays: {
      compensationBackoff: ({ context }: Args) => Math.min(comp.maxBackoffMs, comp.baseBackoffMs * 2 ** (context.attempt - 1)),
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

  return { definition: defineActor(options.name, machine as AnyStateMachine, { passivateAfterMs: options.passivateAfterMs }), machine: machine as AnyStateMachine, options };
}
