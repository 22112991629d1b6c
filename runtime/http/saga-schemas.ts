/**
 * How any saga reads to an operator over HTTP: its machine state folded into a status to filter by, the schemas of
 * the list, the detail with its log, and the resolve body, and the error codes of the saga routes
 * (`saga-routes.ts`). A saga is identified by its actor id, which a service names after what it is for (`orderId`
 * for a fulfillment saga): the schemas take that name and its schema, and the words its documents use.
 */
import { systemClock } from '../clock.ts';
import { t, type TSchema } from 'elysia';
import { undoName as undo, type SagaContext, type SagaLogEntry } from '../saga/define-saga.ts';
import { pageLimit } from './openapi-document.ts';

/**
 * What an operator filters by. The machine has one state per step, per compensation and per completion command;
 * these fold them: every step and completion command is `running`, every `undo<Step>` is `compensating`,
 * `failedNeedsOperator` is `parked`.
 */
export const SAGA_STATUSES = ['running', 'compensating', 'completed', 'compensated', 'parked'] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];

/**
 * The status of a saga in machine state `state` (`chargePayment.sending`, `undoReserveInventory.waiting`, …).
 * `idle` — an actor that exists but was never started (no `saga.start` yet) — counts as running: it is not done.
 *
 * @example
 * sagaStatusOf('undoChargePayment.waiting', new Set(['undoChargePayment'])); // 'compensating'
 */
export function sagaStatusOf(state: string, undoStates: ReadonlySet<string>): SagaStatus {
  const top = state.split('.')[0]!;
  if (top === 'completed' || top === 'compensated') return top;
  if (top === 'failedNeedsOperator') return 'parked';
  if (undoStates.has(top)) return 'compensating';
  return 'running';
}

export const SAGA_PAGE_LIMIT = { min: 1, max: 100, default: 20 } as const;

const LOG_PHASES = ['started', 'succeeded', 'failed', 'timedOut', 'retrying', 'compensating', 'compensated', 'parked', 'completed'] as const;

export const SagaErrorCode = {
  notFound: 'SAGA_NOT_FOUND',
  /** Retry and resolve act on a parked saga only. */
  notParked: 'SAGA_NOT_PARKED',
  invalidCursor: 'INVALID_CURSOR',
  /** The saga did not answer in time (Redis or the node is overloaded or down). */
  unavailable: 'SAGA_UNAVAILABLE',
} as const;

/**
 * How a service's documents speak of its sagas. `id` names the saga's id (`orderId`), with its schema; `exampleStep`
 * is the step the descriptions show (`chargePayment`); `address` how an address reads (`order/fulfillment/<orderId>`);
 * `data` what the saga carries.
 */
export type SagaSchemaWords = { id: { name: string; schema: TSchema }; exampleStep: string; address: string; data: string };

/** One entry of a saga's log as the routes answer it: with its time since the saga started. */
export type SagaLogLine = SagaLogEntry & { sinceStartMs: number };

/** A saga without its data and log, as the routes answer it: its id under its own name `Id` (`orderId`), then the rest. */
export type SagaSummary<Id extends string = never> = { [K in Id]: string } & {
  saga: string;
  status: SagaStatus;
  step: string;
  reason?: string;
  failedStep?: string;
  parkedAt?: string;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number;
};
/** A saga with its data and log (see `SagaSummary`). */
export type SagaView<Id extends string = never> = SagaSummary<Id> & { data: Record<string, unknown>; log: SagaLogLine[] };
/** One page of summaries; `cursor` is null on the last. */
export type SagaPage<Id extends string = never> = { items: SagaSummary<Id>[]; cursor: string | null };

/**
 * The schemas of one saga type's routes.
 *
 * @example
 * const schemas = sagaSchemas({ id: { name: 'orderId', schema: t.String() }, exampleStep: 'chargePayment', address: 'order/fulfillment/<orderId>', data: 'The order' });
 */
export function sagaSchemas(words: SagaSchemaWords) {
  const IdParams = t.Object({ [words.id.name]: words.id.schema });

  const ListQuery = t.Object({
    status: t.Optional(
      t.Union(
        SAGA_STATUSES.map((s) => t.Literal(s)),
        { description: 'running, compensating, completed, compensated or parked (failedNeedsOperator)' },
      ),
    ),
    // Range checked by the route, which names the field: Elysia reports a coerced query number out of its schema's
    // range without the field's name.
    limit: pageLimit(SAGA_PAGE_LIMIT, 'Sagas per page'),
    cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
  });

  const ResolveBody = t.Object({
    note: t.String({ minLength: 1, maxLength: 500, description: 'What the operator did by hand (e.g. "refunded by phone"); kept in the saga’s reason' }),
  }, { examples: [{ note: 'refunded by phone' }] });

  const LogEntry = t.Object({
    at: t.Number({ description: 'ms since the epoch' }),
    sinceStartMs: t.Number({ description: 'ms since the saga started' }),
    step: t.String({ description: `A step (\`${words.exampleStep}\`), a compensation (\`${undo(words.exampleStep)}\`) or \`saga\`` }),
    phase: t.UnionEnum(LOG_PHASES),
    attempt: t.Optional(t.Integer()),
    durationMs: t.Optional(t.Number({ description: 'How long the step (or the whole saga) took' })),
    reason: t.Optional(t.String()),
  });

  const summaryFields = {
    [words.id.name]: t.String(),
    saga: t.String({ description: `The saga actor’s address, ${words.address}` }),
    status: t.UnionEnum(SAGA_STATUSES),
    step: t.String({
      description: `The machine state it is in: a step (\`${words.exampleStep}\`), a compensation (\`${undo(words.exampleStep)}\`), completed, compensated or failedNeedsOperator`,
    }),
    reason: t.Optional(t.String({ description: 'Why it is compensating, or was compensated' })),
    failedStep: t.Optional(t.String()),
    parkedAt: t.Optional(t.String({ description: 'The compensation that gave up (while parked)' })),
    startedAt: t.Number(),
    finishedAt: t.Union([t.Number(), t.Null()]),
    durationMs: t.Number({ description: 'Until it finished, or until now' }),
  };

  const Summary = t.Object(summaryFields, { description: 'A saga without its data and log' });
  const View = t.Object({
    ...summaryFields,
    data: t.Record(t.String(), t.Unknown(), { description: words.data }),
    log: t.Array(LogEntry, { description: 'Every step start, success, failure, timeout, retry and compensation, in order (the last 200)' }),
  });
  const Page = t.Object({
    items: t.Array(Summary),
    cursor: t.Union([t.String(), t.Null()], {
      description: 'Pass back for the next page; null on the last one. A page may be short (even empty) before the last when few sagas match',
    }),
  });
  return { IdParams, ListQuery, ResolveBody, LogEntry, Summary, View, Page };
}

/**
 * The view of a committed saga, its id under `idName`.
 *
 * @example
 * sagaView('orderId', 'ord-1', 'order/fulfillment/ord-1', found.state, found.context, undoStates);
 */
export function sagaView(
  idName: string,
  id: string,
  address: string,
  state: string,
  context: SagaContext<Record<string, unknown>>,
  undoStates: ReadonlySet<string>,
  now = systemClock.now(),
): SagaView {
  const view = {
    [idName]: id,
    saga: address,
    status: sagaStatusOf(state, undoStates),
    step: state.split('.')[0]!,
    startedAt: context.startedAt,
    finishedAt: context.finishedAt > 0 ? context.finishedAt : null,
    durationMs: (context.finishedAt > 0 ? context.finishedAt : now) - context.startedAt,
    data: context.data,
    log: context.log.map((entry) => ({ ...entry, sinceStartMs: entry.at - context.startedAt })),
  } as SagaView;
  if (context.reason) view.reason = context.reason;
  if (context.failedStep) view.failedStep = context.failedStep;
  if (context.parkedAt && view.status === 'parked') view.parkedAt = context.parkedAt;
  return view;
}

/** The view without its data and log. */
export function sagaSummary(view: SagaView): SagaSummary {
  const { data: _data, log: _log, ...summary } = view;
  return summary;
}
