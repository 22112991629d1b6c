/**
 * The operator's controller for the sagas the order service hosts: list them by status, show one with its log,
 * and act on a parked one — retry its compensation (or commit), or resolve it by hand with a note. Reads come
 * straight from committed state (`node.read` / `node.list`); retry and resolve are messages to the saga
 * (`node.ask`), so the answer is the saga as committed after it acted, and two operators acting at once cannot both win.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError, unavailableOnTimeout } from '../../runtime/http/index.ts';
import { InvalidCursorError, type MailroomNode, type Saga, type SagaContext } from '../../runtime/index.ts';
import {
  ListSagasQuerySchema,
  ResolveBodySchema,
  SAGA_PAGE_LIMIT,
  SagaErrorCode,
  SagaIdParamsSchema,
  SagaPageSchema,
  SagaViewSchema,
  sagaStatusOf,
  sagaSummary,
  sagaView,
  type SagaView,
} from './saga-protocol.ts';

const ASK_TIMEOUT_MS = 5_000;
const tags = ['sagas'];

type Ctx = SagaContext<Record<string, unknown>>;

/**
 * The controller for one saga type hosted on `node` (the order service passes its fulfillment saga).
 *
 * @example
 * startProcess({ name: 'order', …, routes: new Elysia().use(orderRoutes(node)).use(sagaRoutes(node, orderFulfillment)) });
 */
export function sagaRoutes(node: MailroomNode, saga: Saga<any>) {
  const type = saga.options.name;
  const undoStates = new Set(saga.options.steps.filter((s) => s.compensation).map((s) => `undo${s.name[0]!.toUpperCase()}${s.name.slice(1)}`));
  const addressOf = (orderId: string) => `${node.service}/${type}/${orderId}`;

  const find = async (orderId: string): Promise<SagaView> => {
    const found = await node.read<Ctx>(addressOf(orderId));
    if (!found) throw new HttpError(404, SagaErrorCode.notFound, `no saga for order ${orderId}`, { orderId });
    return sagaView(orderId, found.address, found.state, found.context, undoStates);
  };

  /** Sends an operator command to a parked saga; 409 unless it was parked and the command moved it. */
  const act = async (orderId: string, event: { type: 'saga.retry' } | { type: 'saga.resolve'; note: string }): Promise<SagaView> => {
    const before = await find(orderId);
    if (before.status !== 'parked') throw notParked(orderId, event.type, before);
    const result = await unavailableOnTimeout(
      () => node.ask<Ctx>(addressOf(orderId), event, { timeoutMs: ASK_TIMEOUT_MS }),
      () => ({ code: SagaErrorCode.unavailable, message: `the saga of order ${orderId} did not answer within ${ASK_TIMEOUT_MS} ms; read it again before repeating (the command stays queued)`, details: { orderId } }),
    );
    const after = sagaView(orderId, addressOf(orderId), result.state, result.context, undoStates);
    // Another operator acted between our read and our turn: this command changed nothing.
    if (!result.handled) throw notParked(orderId, event.type, after);
    return after;
  };

  return new Elysia({ name: 'order:saga-routes' })
    .get(
      '/sagas',
      async ({ query }) => {
        const limit = query.limit ?? SAGA_PAGE_LIMIT.default;
        if (limit < SAGA_PAGE_LIMIT.min || limit > SAGA_PAGE_LIMIT.max) {
          const message = `query.limit is invalid: expected ${SAGA_PAGE_LIMIT.min}–${SAGA_PAGE_LIMIT.max}, got ${limit}`;
          throw validationError('query.limit', message);
        }
        const page = await listPage(node, type, limit, query.cursor, (state) => !query.status || sagaStatusOf(state, undoStates) === query.status);
        const views = await Promise.all(page.addresses.map((address) => node.read<Ctx>(address)));
        const items = views.flatMap((v) => {
          if (!v) return [];
          const view = sagaView(v.address.slice(addressOf('').length), v.address, v.state, v.context, undoStates);
          // The index can trail a turn by nothing, but a saga may have moved on between the scan and the read.
          return !query.status || view.status === query.status ? [sagaSummary(view)] : [];
        });
        return { items, cursor: page.cursor };
      },
      {
        query: ListSagasQuerySchema,
        response: { 200: SagaPageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Page through the fulfillment sagas (in no particular order), optionally by status',
          description: 'Each item is a summary; GET /sagas/{orderId} has the data and the log.',
          tags,
          responses: answers({ 200: 'One page of saga summaries (a page may be short before the last)', 400: 'INVALID_CURSOR: the cursor is not one this service handed out', 422: 'VALIDATION: limit outside 1–100 or an unknown status' }),
        },
      },
    )
    .get('/sagas/:orderId', ({ params }) => find(params.orderId), {
      params: SagaIdParamsSchema,
      response: { 200: SagaViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: 'One order’s saga: status, step, reason, data and its log with timings',
        description: 'The log lists every step start, success, failure, timeout, retry and compensation with its time, attempt, duration and reason.',
        tags,
        responses: answers({ 200: 'The saga with its data and log', 404: 'SAGA_NOT_FOUND: no saga for this order (not placed, or not started yet)' }),
      },
    })
    .post('/sagas/:orderId/retry', ({ params }) => act(params.orderId, { type: 'saga.retry' }), {
      params: SagaIdParamsSchema,
      response: { 200: SagaViewSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'Resume a parked saga’s compensation or commit (409 unless it is parked)',
        description: 'The compensation (or completion command, e.g. the stock commit) that gave up is sent again, with fresh command ids, and the saga goes on from there.',
        tags,
        responses: answers({
          200: 'The saga as committed after it acted',
          404: 'SAGA_NOT_FOUND: no saga for this order',
          409: 'SAGA_NOT_PARKED: the saga is not parked (details.status and details.step say where it is), or another operator acted first',
          503: 'SAGA_UNAVAILABLE: the saga did not answer within 5 s; read it again before repeating (the command stays queued)',
        }),
      },
    })
    .post('/sagas/:orderId/resolve', ({ params, body }) => act(params.orderId, { type: 'saga.resolve', note: body.note }), {
      params: SagaIdParamsSchema,
      body: ResolveBodySchema,
      response: { 200: SagaViewSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'Close a parked saga by hand (409 unless it is parked)',
        description:
          'For when the operator finished the job outside the system: a saga parked in a compensation ends `compensated`, one parked in a completion command (the stock commit) ends `completed`; the note is appended to its reason.',
        tags,
        responses: answers({
          200: 'The saga as committed after it acted',
          404: 'SAGA_NOT_FOUND: no saga for this order',
          409: 'SAGA_NOT_PARKED: the saga is not parked (details.status and details.step say where it is), or another operator acted first',
          503: 'SAGA_UNAVAILABLE: the saga did not answer within 5 s; read it again before repeating (the command stays queued)',
        }),
      },
    });
}

function notParked(orderId: string, command: string, view: SagaView): HttpError {
  const what = command === 'saga.retry' ? 'retried' : 'resolved';
  return new HttpError(409, SagaErrorCode.notParked, `the saga of order ${orderId} is ${view.status} (${view.step}); only a parked saga can be ${what}`, {
    orderId,
    status: view.status,
    step: view.step,
  });
}

/** Index scans (HSCAN calls) one request may make: a rare status among many sagas hands back a cursor rather than scan them all. */
const MAX_SCANS = 16;

/** One page of saga addresses whose index state passes `keep`; a page may hold fewer than `limit` while its cursor is not null. */
async function listPage(node: MailroomNode, type: string, limit: number, cursor: string | undefined, keep: (state: string) => boolean) {
  try {
    const page = await node.list({ type, where: keep, cursor: cursor || undefined, count: limit, maxScans: MAX_SCANS });
    return { addresses: page.items.map((item) => item.address), cursor: page.cursor };
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new HttpError(400, SagaErrorCode.invalidCursor, 'cursor is not one this service handed out; start again without it', { cursor });
  }
}
