/**
 * The operator's controller for one saga type hosted on a node: list its sagas by status, show one with its log,
 * and act on a parked one — retry its compensation (or completion command), or resolve it by hand with a note.
 * Reads come straight from committed state (`node.read` / `node.list`); retry and resolve are messages to the saga
 * (`node.ask`), so the answer is the saga as committed after it acted, and two operators acting at once cannot both
 * win. The service that hosts the saga mounts it and says how its documents speak of it (`SagaRoutesWords`).
 */
import { Elysia } from 'elysia';
import { InvalidCursorError } from '../node/actor-index.ts';
import type { MailroomNode } from '../node/node.ts';
import { undoName, type Saga, type SagaContext } from '../saga/define-saga.ts';
import { HttpError, validationError } from '../http-error.ts';
import { unavailableOnTimeout } from './unavailable.ts';
import { answers } from './openapi-document.ts';
import { ErrorBodySchema } from './service-app.ts';
import { SAGA_PAGE_LIMIT, SagaErrorCode, sagaSchemas, sagaStatusOf, sagaSummary, sagaView, type SagaSchemaWords, type SagaView } from './saga-schemas.ts';

const ASK_TIMEOUT_MS = 5_000;
const tags = ['sagas'];

type Ctx = SagaContext<Record<string, unknown>>;

/**
 * The words of one saga type's routes and documents, besides the schemas' (`SagaSchemaWords`): `noun`, what an id
 * names ("order": "no saga for order ord-1"); `notFound`, why a saga may be missing; `completion`, the completion
 * command in a summary ("commit") and `completionExample` in a description ("the stock commit").
 */
export type SagaRoutesWords = Omit<SagaSchemaWords, 'address'> & { noun: string; notFound: string; completion: string; completionExample: string };

/**
 * The controller for the saga type `saga` hosted on `node`, its routes under `/sagas`.
 *
 * @example
 * new Elysia().use(sagaRoutes(node, orderFulfillment, {
 *   id: { name: 'orderId', schema: OrderId() }, noun: 'order', exampleStep: 'chargePayment', data: 'The order',
 *   notFound: 'not placed, or not started yet', completion: 'commit', completionExample: 'the stock commit',
 * }));
 */
export function sagaRoutes(node: MailroomNode, saga: Saga<any>, words: SagaRoutesWords) {
  const type = saga.options.name;
  const idName = words.id.name;
  const { noun } = words;
  const undoStates = new Set(saga.options.steps.filter((s) => s.compensation).map((s) => undoName(s.name)));
  const addressOf = (id: string) => `${node.service}/${type}/${id}`;
  const schemas = sagaSchemas({ ...words, address: addressOf(`<${idName}>`) });
  // The params schema holds the id under `idName` and validated it (a string of the id's schema).
  const idOf = (params: Record<string, unknown>) => params[idName] as string;
  const viewOf = (id: string, address: string, state: string, context: Ctx) => sagaView(idName, id, address, state, context, undoStates);

  const find = async (id: string): Promise<SagaView> => {
    const found = await node.read<Ctx>(addressOf(id));
    if (!found) throw new HttpError(404, SagaErrorCode.notFound, `no saga for ${noun} ${id}`, { [idName]: id });
    return viewOf(id, found.address, found.state, found.context);
  };

  /** Sends an operator command to a parked saga; 409 unless it was parked and the command moved it. */
  const act = async (id: string, event: { type: 'saga.retry' } | { type: 'saga.resolve'; note: string }): Promise<SagaView> => {
    const before = await find(id);
    if (before.status !== 'parked') throw notParked(id, event.type, before);
    const result = await unavailableOnTimeout(
      () => node.ask<Ctx>(addressOf(id), event, { timeoutMs: ASK_TIMEOUT_MS }),
      () => ({ code: SagaErrorCode.unavailable, message: `the saga of ${noun} ${id} did not answer within ${ASK_TIMEOUT_MS} ms; read it again before repeating (the command stays queued)`, details: { [idName]: id } }),
    );
    const after = viewOf(id, addressOf(id), result.state, result.context);
    // Another operator acted between our read and our turn: this command changed nothing.
    if (!result.handled) throw notParked(id, event.type, after);
    return after;
  };

  const notParked = (id: string, command: string, view: SagaView): HttpError => {
    const what = command === 'saga.retry' ? 'retried' : 'resolved';
    return new HttpError(409, SagaErrorCode.notParked, `the saga of ${noun} ${id} is ${view.status} (${view.step}); only a parked saga can be ${what}`, {
      [idName]: id,
      status: view.status,
      step: view.step,
    });
  };

  const unavailable = 'SAGA_UNAVAILABLE: the saga did not answer within 5 s; read it again before repeating (the command stays queued)';
  const notParkedAnswer = 'SAGA_NOT_PARKED: the saga is not parked (details.status and details.step say where it is), or another operator acted first';
  const actResponse = { 200: schemas.View, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema };

  return new Elysia({ name: `${node.service}:saga-routes` })
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
          const view = viewOf(v.address.slice(addressOf('').length), v.address, v.state, v.context);
          // The index can trail a turn by nothing, but a saga may have moved on between the scan and the read.
          return !query.status || view.status === query.status ? [sagaSummary(view)] : [];
        });
        return { items, cursor: page.cursor } as any;
      },
      {
        query: schemas.ListQuery,
        response: { 200: schemas.Page, 400: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: `Page through the ${type} sagas (in no particular order), optionally by status`,
          description: `Each item is a summary; GET /sagas/{${idName}} has the data and the log.`,
          tags,
          responses: answers({ 200: 'One page of saga summaries (a page may be short before the last)', 400: 'INVALID_CURSOR: the cursor is not one this service handed out', 422: 'VALIDATION: limit outside 1–100 or an unknown status' }),
        },
      },
    )
    .get(`/sagas/:${idName}`, ({ params }) => find(idOf(params)) as any, {
      params: schemas.IdParams,
      response: { 200: schemas.View, 404: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: `One ${noun}’s saga: status, step, reason, data and its log with timings`,
        description: 'The log lists every step start, success, failure, timeout, retry and compensation with its time, attempt, duration and reason.',
        tags,
        responses: answers({ 200: 'The saga with its data and log', 404: `SAGA_NOT_FOUND: no saga for this ${noun} (${words.notFound})` }),
      },
    })
    .post(`/sagas/:${idName}/retry`, ({ params }) => act(idOf(params), { type: 'saga.retry' }) as any, {
      params: schemas.IdParams,
      response: actResponse,
      detail: {
        summary: `Resume a parked saga’s compensation or ${words.completion} (409 unless it is parked)`,
        description: `The compensation (or completion command, e.g. ${words.completionExample}) that gave up is sent again, with fresh command ids, and the saga goes on from there.`,
        tags,
        responses: answers({ 200: 'The saga as committed after it acted', 404: `SAGA_NOT_FOUND: no saga for this ${noun}`, 409: notParkedAnswer, 503: unavailable }),
      },
    })
    .post(`/sagas/:${idName}/resolve`, ({ params, body }) => act(idOf(params), { type: 'saga.resolve', note: body.note }) as any, {
      params: schemas.IdParams,
      body: schemas.ResolveBody,
      response: actResponse,
      detail: {
        summary: 'Close a parked saga by hand (409 unless it is parked)',
        description: `For when the operator finished the job outside the system: a saga parked in a compensation ends \`compensated\`, one parked in a completion command (${words.completionExample}) ends \`completed\`; the note is appended to its reason.`,
        tags,
        responses: answers({ 200: 'The saga as committed after it acted', 404: `SAGA_NOT_FOUND: no saga for this ${noun}`, 409: notParkedAnswer, 503: unavailable }),
      },
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
