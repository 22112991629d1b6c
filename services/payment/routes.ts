/**
 * The payment service's HTTP API, one controller: read a payment, charge and refund it (each waits for the
 * provider's outcome, which arrives in a later turn of the actor), and the provider breaker's stats.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, unavailableOnTimeout } from '../../runtime/http/index.ts';
import { type MailroomNode } from '../../runtime/index.ts';
import type { HttpClient } from '../../runtime/resilience/index.ts';
import { PROVIDER } from './effects.ts';
import {
  BreakersSchema,
  ChargeBodySchema,
  ChargeFailureCode,
  OrderIdParamsSchema,
  paymentAddress,
  PaymentErrorCode,
  PaymentViewSchema,
  type PaymentContext,
  type PaymentReply,
  type PaymentState,
  type PaymentView,
} from './protocol.ts';

export type PaymentRoutesOptions = {
  node: MailroomNode;
  /** The client holding the provider's breaker (for `GET /breakers` and `retryAfterMs`). */
  provider: HttpClient;
  /** How long a charge or refund request waits for its outcome. Default 10 s (a charge gives up after 4 s). */
  waitMs?: number;
};

type Committed = { state: string; context: PaymentContext };

const tags = ['payments'];

/** Charge refusals the actor answers at once, without calling the provider. */
const REFUSALS: Partial<Record<string, number>> = {
  [ChargeFailureCode.AmountMismatch]: 409,
  [ChargeFailureCode.Voided]: 409,
  [ChargeFailureCode.Refunded]: 409,
  [ChargeFailureCode.InvalidAmount]: 422,
};

function toView({ state, context }: Committed): PaymentView {
  const view: PaymentView = { orderId: context.orderId, state: state as PaymentState, amount: context.amount, attempts: context.attempts };
  if (context.chargeId !== undefined) view.chargeId = context.chargeId;
  if (context.refundId !== undefined) view.refundId = context.refundId;
  if (context.refunded !== undefined) view.refunded = context.refunded;
  if (context.reason !== undefined) view.reason = context.reason;
  return view;
}

/**
 * @example
 * startProcess({ name: 'payment', description, redis: true, routes: paymentRoutes({ node, provider }) });
 */
export function paymentRoutes({ node, provider, waitMs = 10_000 }: PaymentRoutesOptions) {
  /** Sends a command and waits until its turn committed, then — while `busy` — until a later turn settled it. */
  async function command(orderId: string, event: { type: 'charge'; amount: number } | { type: 'refund' }, busy: readonly string[]) {
    const address = paymentAddress(orderId);
    return unavailableOnTimeout(
      async () => {
        const asked = await node.ask<PaymentContext>(address, { ...event, orderId });
        if (!busy.includes(asked.state)) return { committed: asked as Committed, reply: asked.reply as PaymentReply | undefined };
        const settled = await node.waitFor<PaymentContext>(address, (view) => !busy.includes(view.state), { timeoutMs: waitMs });
        return { committed: settled as Committed, reply: undefined };
      },
      (timeout) => ({
        code: PaymentErrorCode.Pending,
        message: `the ${event.type} of order ${orderId} has no outcome yet (${timeout.message}); it stays queued — GET /payments/${orderId} later, or repeat the request (it is idempotent)`,
        details: { retryAfterMs: 2_000 },
      }),
    );
  }

  /** How long until the provider may be called again: what the failed call was told, or the breaker now. */
  const retryAfterOf = (context: PaymentContext) => context.retryAfterMs ?? provider.stats()[PROVIDER]?.breaker.retryAfterMs;

  /** A 503 naming the cause; with a `Retry-After` header when the breaker says when to come back. */
  function unavailable(orderId: string, context: PaymentContext, set: { headers: Record<string, unknown> }): HttpError {
    const retryAfterMs = retryAfterOf(context);
    if (retryAfterMs !== undefined) set.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    return new HttpError(
      503,
      PaymentErrorCode.Unavailable,
      `${context.reason ?? 'payment provider unavailable'} (order ${orderId}; repeating the request is safe: the provider key is stable)`,
      retryAfterMs === undefined ? { dependency: PROVIDER } : { dependency: PROVIDER, retryAfterMs },
    );
  }

  return new Elysia({ name: 'payment:routes' })
    .get(
      '/payments/:orderId',
      async ({ params }) => {
        const view = await node.read<PaymentContext>(paymentAddress(params.orderId));
        if (view === null) {
          throw new HttpError(404, PaymentErrorCode.NotFound, `no payment for order ${params.orderId}; POST /payments/${params.orderId}/charge starts one`);
        }
        return toView(view);
      },
      {
        params: OrderIdParamsSchema,
        response: { 200: PaymentViewSchema, 404: ErrorBodySchema },
        detail: { summary: 'A payment: its state, amount, charge and refund', tags, responses: answers({ 200: 'The payment', 404: 'PAYMENT_NOT_FOUND: no payment for this order yet' }) },
      },
    )
    .post(
      '/payments/:orderId/charge',
      async ({ params: { orderId }, body, set }) => {
        const { committed, reply } = await command(orderId, { type: 'charge', amount: body.amount }, ['charging']);
        const { state, context } = committed;
        if (reply?.type === 'payment.failed' && REFUSALS[reply.code] !== undefined) {
          throw new HttpError(REFUSALS[reply.code]!, reply.code, reply.reason, { state });
        }
        switch (state) {
          case 'declined':
            throw new HttpError(402, PaymentErrorCode.Declined, `${context.reason ?? 'card declined'} (order ${orderId})`, { amount: context.amount });
          case 'failed':
            throw unavailable(orderId, context, set);
          case 'voided':
            throw new HttpError(409, PaymentErrorCode.Voided, `the payment of order ${orderId} was voided: ${context.reason ?? 'refunded before any charge'}`);
          default:
            // charged — or already being refunded because a refund arrived while it was charging.
            return toView(committed);
        }
      },
      {
        params: OrderIdParamsSchema,
        body: ChargeBodySchema,
        response: { 200: PaymentViewSchema, 402: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          responses: answers({
            200: 'Charged (or already charged this amount, or being refunded): the payment',
            402: 'PAYMENT_DECLINED: the provider declined the card (details.amount)',
            409: 'AMOUNT_MISMATCH (charged another amount already), PAYMENT_VOIDED or PAYMENT_REFUNDED',
            422: 'INVALID_AMOUNT: the actor refused the amount',
            503: 'PROVIDER_UNAVAILABLE (details.retryAfterMs and Retry-After while the breaker is open) or PAYMENT_PENDING (no outcome within 10 s; repeating is safe)',
          }),
          summary: 'Charge the order once (idempotent: a repeat answers the same charge); waits for the provider',
          description:
            '200 with the payment once charged; 402 PAYMENT_DECLINED; 409 when the order is charged another amount, voided or refunded; ' +
            '503 PROVIDER_UNAVAILABLE (details.retryAfterMs and a Retry-After header while the provider breaker is open) or PAYMENT_PENDING.',
          tags,
        },
      },
    )
    .post(
      '/payments/:orderId/refund',
      async ({ params: { orderId }, set }) => {
        const { committed } = await command(orderId, { type: 'refund' }, ['charging', 'refunding']);
        if (committed.state === 'refunded' || committed.state === 'voided') return toView(committed);
        // Back in charged or failed: the refund did not go through.
        throw unavailable(orderId, committed.context, set);
      },
      {
        params: OrderIdParamsSchema,
        response: { 200: PaymentViewSchema, 503: ErrorBodySchema },
        detail: {
          responses: answers({
            200: 'Refunded, or voided when nothing was charged: the payment',
            503: 'PROVIDER_UNAVAILABLE: the refund failed (details.retryAfterMs), or PAYMENT_PENDING: no outcome within 10 s; repeating is safe',
          }),
          summary: 'Refund the order’s charge (idempotent); before any charge it voids the payment instead',
          description:
            '200 with the payment refunded, or voided (refunded 0) when nothing was charged — a voided payment is never charged. ' +
            'A refund asked while charging waits for the charge and then refunds it. 503 PROVIDER_UNAVAILABLE when the refund failed.',
          tags,
        },
      },
    )
    .get('/breakers', () => provider.stats(), {
      response: { 200: BreakersSchema },
      detail: {
        summary: 'The payment provider breaker: state, window, thresholds, last trips with reasons; and its bulkhead',
        tags: ['resilience'],
        responses: answers({ 200: 'The provider’s breaker and bulkhead' }),
      },
    });
}
