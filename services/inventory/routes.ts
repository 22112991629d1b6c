/**
 * The inventory HTTP controller: the catalogue (`/skus`) and reservations (`/reservations`), over the node's
 * actors. Reads come straight from committed state (`node.read`, `node.list`); commands go through `node.ask`, and
 * a reservation's outcome, which arrives in a later turn once every SKU has answered, is awaited with
 * `node.waitFor`. Every error is an `HttpError` whose message says what to change or when to retry.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError, unavailableOnTimeout } from '../../runtime/http/index.ts';
import { type ActorView, type MailroomNode } from '../../runtime/index.ts';
import {
  InventoryErrorCode as E,
  linesProblem,
  OrderIdParams,
  ReservationStateSchema,
  ReservationViewSchema,
  RestockBody,
  RestockHeaders,
  ReserveBody,
  reservationAddress,
  reservationView,
  sameLines,
  SkuListSchema,
  skuAddress,
  SkuParams,
  skuView,
  SkuViewSchema,
  type InventoryReply,
  type ReservationContext,
  type ReservationState,
  type SkuContext,
  type SkuView,
} from './protocol.ts';

export type InventoryRoutesOptions = {
  /** How long a request waits for a reservation to settle before answering 503. Default 5 s. */
  settleTimeoutMs?: number;
};

const RETRY_AFTER_MS = 1_000;

/**
 * The inventory routes, bound to a node hosting the `sku` and `reservation` actors.
 *
 * @example
 * createServiceApp({ name: 'inventory' }).use(inventoryRoutes(node));
 */
export function inventoryRoutes(node: MailroomNode, options: InventoryRoutesOptions = {}) {
  const settleMs = options.settleTimeoutMs ?? 5_000;

  /** Runs a command; an actor that does not settle in time becomes a 503 the caller can retry. */
  const settled = <T>(what: string, run: () => Promise<T>): Promise<T> =>
    unavailableOnTimeout(run, () => ({
      code: E.INVENTORY_BUSY,
      message: `${what} did not settle within ${settleMs} ms; the command stays queued — retry in ${RETRY_AFTER_MS / 1000} s`,
      details: { retryAfterMs: RETRY_AFTER_MS },
    }));

  const listedSku = async (sku: string): Promise<SkuContext> => {
    const view = await node.read<SkuContext>(skuAddress(sku));
    if (!view || view.state !== 'listed') {
      throw new HttpError(404, E.SKU_NOT_FOUND, `no SKU ${sku} in the catalogue; GET /skus lists them`, { sku });
    }
    return view.context;
  };

  const existingReservation = async (orderId: string): Promise<ActorView<ReservationContext>> => {
    const view = await node.read<ReservationContext>(reservationAddress(orderId));
    if (!view) throw new HttpError(404, E.RESERVATION_NOT_FOUND, `no reservation for order ${orderId}`, { orderId });
    return view;
  };

  /** Sends a command to a reservation and waits until it is no longer `holding`. */
  const commandReservation = (orderId: string, command: Record<string, unknown> & { type: string }) =>
    settled(`the reservation of order ${orderId}`, async () => {
      const address = reservationAddress(orderId);
      const res = await node.ask<ReservationContext>(address, { ...command, orderId }, { timeoutMs: settleMs });
      const reply = res.reply as InventoryReply | undefined;
      // A reply means this command's outcome is known now (a repeat, or a commit refused while holding).
      if (res.state !== 'holding' || reply) return { state: res.state, context: res.context, reply };
      const view = await node.waitFor<ReservationContext>(address, (v) => v.state !== 'holding', { timeoutMs: settleMs });
      return { state: view.state, context: view.context, reply: undefined };
    });

  return new Elysia({ name: 'inventory:routes', seed: node.nodeId })
    .get(
      '/skus',
      async () => {
        const addresses: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await node.list({ type: 'sku', cursor, count: 500 });
          addresses.push(...page.items.filter((i) => i.state === 'listed').map((i) => i.address));
          cursor = page.cursor ?? undefined;
        } while (cursor);
        const views = await Promise.all(addresses.map((a) => node.read<SkuContext>(a)));
        const items: SkuView[] = views.flatMap((v) => (v && v.state === 'listed' ? [skuView(v.context)] : []));
        return { items: items.sort((a, b) => (a.sku < b.sku ? -1 : 1)) };
      },
      {
        response: { 200: SkuListSchema },
        detail: { summary: 'The catalogue: every listed SKU with its stock', tags: ['skus'], responses: answers({ 200: 'Every listed SKU with its stock, by code' }) },
      },
    )
    .get('/skus/:sku', async ({ params }) => skuView(await listedSku(params.sku)), {
      params: SkuParams,
      response: { 200: SkuViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: 'One SKU: name, price (cents), on hand, reserved, shipped',
        tags: ['skus'],
        responses: answers({ 200: 'The SKU with its stock', 404: 'SKU_NOT_FOUND: no SKU with this code is listed' }),
      },
    })
    .post(
      '/skus/:sku/restock',
      async ({ params, body, headers }) => {
        await listedSku(params.sku);
        const key = headers['idempotency-key'];
        const res = await settled(`restocking ${params.sku}`, () =>
          node.ask<SkuContext>(skuAddress(params.sku), { type: 'sku.restock', qty: body.qty }, { timeoutMs: settleMs, id: key ? `restock:${params.sku}:${key}` : undefined }),
        );
        return skuView(res.context);
      },
      {
        params: SkuParams,
        body: RestockBody,
        headers: RestockHeaders,
        response: { 200: SkuViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Add stock to a SKU',
          description: 'With an Idempotency-Key header a retried request restocks once.',
          tags: ['skus'],
          responses: answers({ 200: 'The SKU’s stock after the restock', 404: 'SKU_NOT_FOUND: no SKU with this code is listed', 503: 'INVENTORY_BUSY: the actor did not settle within 5 s; the command stays queued — retry in 1 s' }),
        },
      },
    )
    .post(
      '/reservations',
      async ({ body }) => {
        const problem = linesProblem(body.lines);
        if (problem) throw validationError('body.lines', `body.lines is invalid: ${problem}`);
        const { state, context } = await commandReservation(body.orderId, { type: 'reserve', lines: body.lines });
        if (context.lines.length > 0 && !sameLines(context.lines, body.lines)) {
          throw new HttpError(
            409,
            E.RESERVATION_CONFLICT,
            `order ${body.orderId} already has a reservation for other lines (${context.lines.map((l) => `${l.qty} × ${l.sku}`).join(', ')}); use a new order id`,
            reservationView(state, context),
          );
        }
        if (state === 'reserved' || state === 'committed') return reservationView(state, context);
        if (state === 'rejected') {
          throw new HttpError(409, E.INSUFFICIENT_STOCK, `cannot reserve order ${body.orderId}: ${context.reason}`, {
            orderId: body.orderId,
            shortages: context.shortages,
          });
        }
        throw new HttpError(409, E.RESERVATION_CLOSED, `the reservation of order ${body.orderId} was ${state}; reserve under a new order id`, {
          orderId: body.orderId,
          state,
        });
      },
      {
        body: ReserveBody,
        response: { 200: ReservationViewSchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Reserve an order’s lines, all or nothing',
          description: 'Waits for every SKU to answer. 409 INSUFFICIENT_STOCK names each short SKU with requested and available units; nothing stays held.',
          tags: ['reservations'],
          responses: answers({
            200: 'Reserved (or already reserved or committed with these lines): the reservation',
            409: 'INSUFFICIENT_STOCK (details.shortages), RESERVATION_CONFLICT (the order has a reservation for other lines) or RESERVATION_CLOSED (released already)',
            422: 'VALIDATION: a line names an unknown SKU or asks too many units once merged',
            503: 'INVENTORY_BUSY: the actor did not settle within 5 s; the command stays queued — retry in 1 s',
          }),
        },
      },
    )
    .get('/reservations/:orderId', async ({ params }) => {
      const view = await existingReservation(params.orderId);
      return reservationView(view.state, view.context);
    }, {
      params: OrderIdParams,
      response: { 200: ReservationViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: 'An order’s reservation: state, lines and the reason of a rejection',
        tags: ['reservations'],
        responses: answers({ 200: 'The reservation', 404: 'RESERVATION_NOT_FOUND: this order has no reservation' }),
      },
    })
    .post(
      '/reservations/:orderId/release',
      async ({ params }) => {
        await existingReservation(params.orderId);
        const { state, reply } = await commandReservation(params.orderId, { type: 'release' });
        if (reply?.type === 'inventory.releaseFailed') {
          throw new HttpError(409, E.RESERVATION_CLOSED, reply.reason, { orderId: params.orderId, state });
        }
        return { orderId: params.orderId, state: state as ReservationState };
      },
      {
        params: OrderIdParams,
        response: { 200: ReservationStateSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Release an order’s stock back to on hand (idempotent)',
          description: 'A rejected or already released reservation answers as is; a committed one is 409.',
          tags: ['reservations'],
          responses: answers({ 200: 'The reservation’s state after the release', 404: 'RESERVATION_NOT_FOUND: this order has no reservation', 409: 'RESERVATION_CLOSED: it was committed (shipped)', 503: 'INVENTORY_BUSY: the actor did not settle within 5 s; the command stays queued — retry in 1 s' }),
        },
      },
    )
    .post(
      '/reservations/:orderId/commit',
      async ({ params }) => {
        await existingReservation(params.orderId);
        const { state, reply } = await commandReservation(params.orderId, { type: 'commit' });
        if (reply?.type === 'inventory.commitFailed') {
          throw new HttpError(409, E.NOT_RESERVED, reply.reason, { orderId: params.orderId, state });
        }
        return { orderId: params.orderId, state: state as ReservationState };
      },
      {
        params: OrderIdParams,
        response: { 200: ReservationStateSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Commit an order’s reserved stock as shipped (idempotent)',
          description: 'Only a reserved (or already committed) reservation can be committed; anything else is 409.',
          tags: ['reservations'],
          responses: answers({ 200: 'The reservation’s state after the commit', 404: 'RESERVATION_NOT_FOUND: this order has no reservation', 409: 'NOT_RESERVED: it is holding, rejected or released', 503: 'INVENTORY_BUSY: the actor did not settle within 5 s; the command stays queued — retry in 1 s' }),
        },
      },
    );
}
