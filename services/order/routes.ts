/**
 * The order service's HTTP controller: create an order (idempotent by order id), page through orders, read one.
 * Writes go to the order's actor through `node.ask`, so a 201 means the order is committed; reads come straight
 * from the committed state with `node.read` / `node.list`, without a message.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError, unavailableOnTimeout } from '../../runtime/http/index.ts';
import { InvalidCursorError, type MailroomNode } from '../../runtime/index.ts';
import {
  CreateOrderBodySchema,
  ListOrdersQuerySchema,
  MAX_TOTAL,
  ORDER_ACTOR,
  OrderErrorCode,
  OrderIdParamsSchema,
  OrderPageSchema,
  OrderViewSchema,
  PAGE_LIMIT,
  orderAddress,
  type CreateOrderBody,
  type CreateReply,
  type OrderContext,
  type OrderState,
  type OrderView,
} from './protocol.ts';

const ASK_TIMEOUT_MS = 5_000;

/** The public view of a committed order; null while it is a draft (never created). */
export function orderView(state: string, context: OrderContext): OrderView | null {
  if (state === 'draft' || !context.customer || !context.address) return null;
  return {
    orderId: context.orderId,
    state: state as Exclude<OrderState, 'draft'>,
    customer: context.customer,
    lines: context.lines,
    address: context.address,
    total: context.total,
    ...(context.reason === undefined ? {} : { reason: context.reason }),
    createdAt: context.createdAt,
    updatedAt: context.updatedAt,
  };
}

/** A new order id: time-ordered, so ids sort roughly by creation. */
export const newOrderId = () => `ord-${Bun.randomUUIDv7().replaceAll('-', '')}`;

/** Whether an existing order is the same order as a create body (same customer, lines and address). */
function sameOrder(view: OrderView, body: CreateOrderBody): boolean {
  return JSON.stringify([view.customer, view.lines, view.address]) === JSON.stringify([body.customer, body.lines, body.address]);
}

/**
 * The controller, on a node hosting the order actor.
 *
 * @example
 * const node = await createNode({ service: 'order', actors: [orderActor] });
 * startProcess({ name: 'order', description: '…', redis: true, routes: orderRoutes(node) });
 */
export function orderRoutes(node: MailroomNode) {
  const ask = <C>(address: string, event: Parameters<MailroomNode['ask']>[1]) =>
    unavailableOnTimeout(
      () => node.ask<C>(address, event, { timeoutMs: ASK_TIMEOUT_MS }),
      () => ({ code: OrderErrorCode.unavailable, message: `the order ${address} did not answer within ${ASK_TIMEOUT_MS} ms; retry shortly (the request is queued and may still apply)` }),
    );

  return new Elysia({ name: 'order:routes' })
    .post(
      '/orders',
      async ({ body, set }) => {
        const total = body.lines.reduce((sum, line) => sum + line.qty * line.price, 0);
        if (total > MAX_TOTAL) {
          throw new HttpError(422, OrderErrorCode.totalTooLarge, `the order total ${total} cents is over the limit of ${MAX_TOTAL} cents; split the order`, { total, limit: MAX_TOTAL });
        }
        const orderId = body.orderId ?? newOrderId();
        const address = orderAddress(orderId);
        const { lines, customer } = body;
        const result = await ask<OrderContext>(address, { type: 'create', orderId, customer, lines, address: body.address, total });
        const view = orderView(result.state, result.context);
        if (!view) {
          throw new HttpError(409, OrderErrorCode.idTaken, `order ${orderId} was cancelled before it was created (${result.context.reason ?? 'no reason given'}); use another orderId`, { orderId });
        }
        const created = (result.reply as CreateReply | undefined)?.created === true;
        if (!created && !sameOrder(view, body)) {
          throw new HttpError(409, OrderErrorCode.idTaken, `order ${orderId} already exists with a different customer, lines or address; use another orderId`, { orderId });
        }
        set.status = created ? 201 : 200;
        return view;
      },
      {
        body: CreateOrderBodySchema,
        response: { 200: OrderViewSchema, 201: OrderViewSchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Create an order (201), or return the existing one with the same orderId (200)',
          description: 'Validates the lines and computes the total; the order starts `pending` and publishes OrderCreated.',
          tags: ['orders'],
          responses: answers({
            200: 'An order with this orderId existed with the same customer, lines and address: nothing changed',
            201: 'The order, created and committed (pending)',
            409: 'ORDER_ID_TAKEN: the orderId is taken by a different order, or was cancelled before it was created',
            422: 'TOTAL_TOO_LARGE: the total is over 1,000,000.00 (details.total, details.limit)',
            503: 'ORDER_UNAVAILABLE: the order did not answer within 5 s; retry with the same orderId (the request is queued and may still apply)',
          }),
        },
      },
    )
    .get(
      '/orders',
      async ({ query }) => {
        const limit = query.limit ?? PAGE_LIMIT.default;
        if (limit < PAGE_LIMIT.min || limit > PAGE_LIMIT.max) throw outOfRange('query.limit', limit, PAGE_LIMIT);
        const page = await listPage(node, limit, query.cursor, query.state);
        const views = await Promise.all(page.addresses.map((address) => node.read<OrderContext>(address)));
        const items = views.flatMap((v) => {
          const view = v && orderView(v.state, v.context);
          return view && (!query.state || view.state === query.state) ? [view] : [];
        });
        return { items, cursor: page.cursor };
      },
      {
        query: ListOrdersQuerySchema,
        response: { 200: OrderPageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Page through orders (in no particular order), optionally by state',
          tags: ['orders'],
          responses: answers({ 200: 'One page of orders', 400: 'INVALID_CURSOR: the cursor is not one this service handed out', 422: 'VALIDATION: limit outside 1–100 or an unknown state' }),
        },
      },
    )
    .get(
      '/orders/:id',
      async ({ params }) => {
        const found = await node.read<OrderContext>(orderAddress(params.id));
        const view = found && orderView(found.state, found.context);
        if (!view) throw new HttpError(404, OrderErrorCode.notFound, `no order ${params.id}`, { orderId: params.id });
        return view;
      },
      {
        params: OrderIdParamsSchema,
        response: { 200: OrderViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: { summary: 'One order', tags: ['orders'], responses: answers({ 200: 'The order', 404: 'ORDER_NOT_FOUND: no order has this id' }) },
      },
    );
}

/** One page of order addresses (drafts only when asked by state): `node.list` pages exactly, and its cursor is ours. */
async function listPage(node: MailroomNode, limit: number, cursor: string | undefined, state: string | undefined) {
  try {
    const page = await node.list({ type: ORDER_ACTOR, where: (s) => (state ? s === state : s !== 'draft'), cursor: cursor || undefined, count: limit });
    return { addresses: page.items.map((item) => item.address), cursor: page.cursor };
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new HttpError(400, OrderErrorCode.invalidCursor, 'cursor is not one this service handed out; start again without it', { cursor });
  }
}

/** The frame's own 422 shape for a value its schema could not range-check (see `ListOrdersQuerySchema`). */
function outOfRange(field: string, value: number, range: { min: number; max: number }): HttpError {
  const message = `${field} is invalid: expected ${range.min}–${range.max}, got ${value}`;
  return validationError(field, message);
}
