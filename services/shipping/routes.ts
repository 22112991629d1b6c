/**
 * The shipping HTTP controller: schedule, read and cancel an order's shipment, over the node's `shipment` actors.
 * A shipment decides in the turn that receives the command, so `node.ask` gives the outcome at once; reads come
 * straight from committed state (`node.read`).
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, unavailableOnTimeout } from '../../runtime/http/index.ts';
import { type MailroomNode } from '../../runtime/index.ts';
import {
  OrderIdParams,
  ScheduleBody,
  shipmentAddress,
  shipmentView,
  ShipmentViewSchema,
  ShippingErrorCode as E,
  type ShipmentContext,
} from './protocol.ts';

export type ShippingRoutesOptions = {
  /** How long a request waits for the shipment actor before answering 503. Default 5 s. */
  timeoutMs?: number;
};

const RETRY_AFTER_MS = 1_000;

/**
 * The shipping routes, bound to a node hosting the `shipment` actor.
 *
 * @example
 * createServiceApp({ name: 'shipping' }).use(shippingRoutes(node));
 */
export function shippingRoutes(node: MailroomNode, options: ShippingRoutesOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 5_000;

  const command = (orderId: string, event: Record<string, unknown> & { type: string }) =>
    unavailableOnTimeout(
      () => node.ask<ShipmentContext>(shipmentAddress(orderId), { ...event, orderId }, { timeoutMs }),
      () => ({
        code: E.SHIPPING_BUSY,
        message: `the shipment of order ${orderId} did not answer within ${timeoutMs} ms; the command stays queued — retry in ${RETRY_AFTER_MS / 1000} s`,
        details: { retryAfterMs: RETRY_AFTER_MS },
      }),
    );

  const existing = async (orderId: string) => {
    const view = await node.read<ShipmentContext>(shipmentAddress(orderId));
    if (!view) throw new HttpError(404, E.SHIPMENT_NOT_FOUND, `no shipment for order ${orderId}`, { orderId });
    return view;
  };

  return new Elysia({ name: 'shipping:routes', seed: node.nodeId })
    .post(
      '/shipments',
      async ({ body }) => {
        const { state, context } = await command(body.orderId, { type: 'schedule', address: body.address, lines: body.lines });
        const view = shipmentView(state, context);
        if (state === 'scheduled') return view;
        if (state === 'cancelled') {
          throw new HttpError(409, E.SHIPMENT_CANCELLED, `the shipment of order ${body.orderId} was cancelled; schedule under a new order id`, view);
        }
        throw new HttpError(409, E.SHIPPING_UNAVAILABLE, `cannot ship order ${body.orderId}: ${context.reason}`, view);
      },
      {
        body: ScheduleBody,
        response: { 200: ShipmentViewSchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Schedule an order’s shipment (idempotent per order)',
          description: 'Books the carrier of the destination country and returns its tracking id. 409 SHIPPING_UNAVAILABLE when no carrier serves the country.',
          tags: ['shipments'],
          responses: answers({
            200: 'Scheduled (or scheduled already): the shipment with its carrier and tracking id',
            409: 'SHIPPING_UNAVAILABLE: no carrier serves the country; SHIPMENT_CANCELLED: it was cancelled (details: the shipment)',
            503: 'SHIPPING_BUSY: the shipment did not answer in time; the command stays queued — retry in 1 s',
          }),
        },
      },
    )
    .get('/shipments/:orderId', async ({ params }) => {
      const view = await existing(params.orderId);
      return shipmentView(view.state, view.context);
    }, {
      params: OrderIdParams,
      response: { 200: ShipmentViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: 'An order’s shipment: state, carrier, tracking id or the reason it was rejected',
        tags: ['shipments'],
        responses: answers({ 200: 'The shipment', 404: 'SHIPMENT_NOT_FOUND: this order has no shipment' }),
      },
    })
    .post(
      '/shipments/:orderId/cancel',
      async ({ params }) => {
        await existing(params.orderId);
        const { state, context } = await command(params.orderId, { type: 'cancel' });
        return shipmentView(state, context);
      },
      {
        params: OrderIdParams,
        response: { 200: ShipmentViewSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Cancel an order’s shipment (idempotent)',
          description: 'A scheduled shipment becomes cancelled; a rejected one answers as is.',
          tags: ['shipments'],
          responses: answers({ 200: 'The shipment after the cancel', 404: 'SHIPMENT_NOT_FOUND: this order has no shipment', 503: 'SHIPPING_BUSY: the shipment did not answer in time; the command stays queued — retry in 1 s' }),
        },
      },
    );
}
