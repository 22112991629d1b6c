/**
 * The operator API of the sagas the order service hosts (`order/fulfillment/<orderId>`), declared before anything
 * uses it: how a saga's machine state reads as a status an operator filters by, the HTTP schemas of the list, the
 * detail with its log, retry and resolve, and the error codes. A saga is identified by its order id: there is one
 * fulfillment saga per order.
 */
import { t, type Static } from 'elysia';
import { pageLimit } from '../../runtime/http/index.ts';
import { type SagaContext } from '../../runtime/index.ts';
import { OrderId } from '../shared/shop-vocabulary.ts';

/**
 * What an operator filters by. The machine has one state per step, per compensation and per completion command;
 * these fold them: every step and completion command (`commitInventory`) is `running`, every `undo<Step>` is
 * `compensating`, `failedNeedsOperator` is `parked`.
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

export const SagaIdParamsSchema = t.Object({ orderId: OrderId('The order the saga fulfils') });

export const ListSagasQuerySchema = t.Object({
  status: t.Optional(
    t.Union(
      SAGA_STATUSES.map((s) => t.Literal(s)),
      { description: 'running, compensating, completed, compensated or parked (failedNeedsOperator)' },
    ),
  ),
  // Range checked by the route, which names the field (see the order routes on Elysia's coerced numbers).
  limit: pageLimit(SAGA_PAGE_LIMIT, 'Sagas per page'),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
});
export type ListSagasQuery = Static<typeof ListSagasQuerySchema>;

export const ResolveBodySchema = t.Object({
  note: t.String({ minLength: 1, maxLength: 500, description: 'What the operator did by hand (e.g. "refunded by phone"); kept in the saga’s reason' }),
}, { examples: [{ note: 'refunded by phone' }] });

export const SagaLogEntrySchema = t.Object({
  at: t.Number({ description: 'ms since the epoch' }),
  sinceStartMs: t.Number({ description: 'ms since the saga started' }),
  step: t.String({ description: 'A step (`chargePayment`), a compensation (`undoChargePayment`) or `saga`' }),
  phase: t.UnionEnum(LOG_PHASES),
  attempt: t.Optional(t.Integer()),
  durationMs: t.Optional(t.Number({ description: 'How long the step (or the whole saga) took' })),
  reason: t.Optional(t.String()),
});

const StatusField = t.UnionEnum(SAGA_STATUSES);

const summaryFields = {
  orderId: t.String(),
  saga: t.String({ description: 'The saga actor’s address, order/fulfillment/<orderId>' }),
  status: StatusField,
  step: t.String({ description: 'The machine state it is in: a step (`chargePayment`), a compensation (`undoChargePayment`), completed, compensated or failedNeedsOperator' }),
  reason: t.Optional(t.String({ description: 'Why it is compensating, or was compensated' })),
  failedStep: t.Optional(t.String()),
  parkedAt: t.Optional(t.String({ description: 'The compensation that gave up (while parked)' })),
  startedAt: t.Number(),
  finishedAt: t.Union([t.Number(), t.Null()]),
  durationMs: t.Number({ description: 'Until it finished, or until now' }),
};

export const SagaSummarySchema = t.Object(summaryFields, { description: 'A saga without its data and log' });
export const SagaViewSchema = t.Object({
  ...summaryFields,
  data: t.Record(t.String(), t.Unknown(), { description: 'What the saga carries: the order, and what steps returned (chargeId, trackingId)' }),
  log: t.Array(SagaLogEntrySchema, { description: 'Every step start, success, failure, timeout, retry and compensation, in order (the last 200)' }),
});
export const SagaPageSchema = t.Object({
  items: t.Array(SagaSummarySchema),
  cursor: t.Union([t.String(), t.Null()], {
    description: 'Pass back for the next page; null on the last one. A page may be short (even empty) before the last when few sagas match',
  }),
});

export type SagaSummary = Static<typeof SagaSummarySchema>;
export type SagaView = Static<typeof SagaViewSchema>;

/** The summary and the full view of a committed saga. */
export function sagaView(orderId: string, address: string, state: string, context: SagaContext<Record<string, unknown>>, undoStates: ReadonlySet<string>, now = Date.now()): SagaView {
  const view: SagaView = {
    orderId,
    saga: address,
    status: sagaStatusOf(state, undoStates),
    step: state.split('.')[0]!,
    startedAt: context.startedAt,
    finishedAt: context.finishedAt > 0 ? context.finishedAt : null,
    durationMs: (context.finishedAt > 0 ? context.finishedAt : now) - context.startedAt,
    data: context.data,
    log: context.log.map((entry) => ({ ...entry, sinceStartMs: entry.at - context.startedAt })),
  };
  if (context.reason) view.reason = context.reason;
  if (context.failedStep) view.failedStep = context.failedStep;
  if (context.parkedAt && view.status === 'parked') view.parkedAt = context.parkedAt;
  return view;
}

export function sagaSummary(view: SagaView): SagaSummary {
  const { data: _data, log: _log, ...summary } = view;
  return summary;
}

export const SagaErrorCode = {
  notFound: 'SAGA_NOT_FOUND',
  /** Retry and resolve act on a parked saga only. */
  notParked: 'SAGA_NOT_PARKED',
  invalidCursor: 'INVALID_CURSOR',
  /** The saga did not answer in time (Redis or the node is overloaded or down). */
  unavailable: 'SAGA_UNAVAILABLE',
} as const;
