/**
 * The `payment` actor, one per order (`payment/payment/<orderId>`): charges the order's amount at the provider and
 * refunds it, each through an effect with a stable provider key, so an order is never charged twice and a refund
 * only ever follows a charge. Every command is idempotent: a repeat gets the same answer and starts nothing. A refund
 * asked while the charge is in flight waits for it and then undoes it, so a cancelled order always nets to zero; a
 * refund after a failed charge first settles the charge key at the provider (its charge, or a void that blocks it).
 *
 *     idle ──charge──► charging ──► charged ──refund──► refunding ──► refunded
 *       │                 ├──► declined ──refund──► voided            └──► voided (nothing had been charged)
 *       └──refund──► voided └──► failed ──charge──► charging
 *                                   └──refund──► refunding
 */
import { assign, setup } from 'xstate';
import { defineActor, effect, isAddress, participant, publish, waiterOf, withWaiter, type ActorDefinition, type Waiter } from '../../runtime/index.ts';
import type { PaymentEffects } from './effects.ts';
import {
  ChargeFailureCode,
  isRefusal,
  MAX_AMOUNT_CENTS,
  type EffectErrorData,
  type PaymentCommand,
  type PaymentContext,
  type PaymentPending,
  type PaymentReply,
  type PaymentState,
} from './protocol.ts';

type Reply<T extends PaymentReply['type']> = Extract<PaymentReply, { type: T }>;
type Args = { context: PaymentContext; event: any };

const { answer, answerAsk, answerWaiters } = participant<PaymentReply, PaymentPending>();

/** Commands waiting at once on one outcome, at most (the oldest are dropped; their senders retry). */
const MAX_WAITERS = 16;

/** `list` with the command's waiter added (once; only commands with a `replyTo` wait: an ask reads the outcome). */
const addWaiter = (list: Waiter[], command: Waiter) => (isAddress(command.replyTo) ? withWaiter(list, waiterOf(command), MAX_WAITERS) : list);

/** Tells every waiter of `list` the outcome, with its own commandId. */
const tellWaiters = (list: 'chargeWaiters' | 'refundWaiters', build: (context: PaymentContext, waiter: Waiter, event: any) => PaymentReply) =>
  answerWaiters((context: PaymentContext) => context[list], build);

const charged = (context: PaymentContext, waiter: Waiter): Reply<'payment.charged'> => ({
  type: 'payment.charged',
  orderId: context.orderId,
  commandId: waiter.commandId,
  chargeId: context.chargeId ?? '',
  amount: context.amount,
});

const chargeFailed = (context: PaymentContext, waiter: Waiter, code: ChargeFailureCode, reason: string): Reply<'payment.failed'> => ({
  type: 'payment.failed',
  orderId: context.orderId,
  commandId: waiter.commandId,
  reason,
  retryable: code === ChargeFailureCode.Unavailable,
  code,
  retryAfterMs: code === ChargeFailureCode.Unavailable ? context.retryAfterMs : undefined,
});

/** The outcome of the charge that just ended, for the commands that waited on it. */
const chargeOutcome = (context: PaymentContext, waiter: Waiter, declined: boolean) =>
  chargeFailed(context, waiter, declined ? ChargeFailureCode.Declined : ChargeFailureCode.Unavailable, context.reason ?? 'charge failed');

const refunded = (context: PaymentContext, waiter: Waiter): Reply<'payment.refunded'> => ({
  type: 'payment.refunded',
  orderId: context.orderId,
  commandId: waiter.commandId,
  refundId: context.refundId,
  amount: context.refunded ?? 0,
});

const refundFailed = (context: PaymentContext, waiter: Waiter, retryable: boolean): Reply<'payment.refundFailed'> => ({
  type: 'payment.refundFailed',
  orderId: context.orderId,
  commandId: waiter.commandId,
  reason: context.reason ?? 'refund failed',
  retryable,
  // "Not before then" (an open breaker, a provider's Retry-After): the saga waits that long instead of using up its attempts.
  retryAfterMs: retryable ? context.retryAfterMs : undefined,
});

const pending = (context: PaymentContext, event: Waiter, state: PaymentState): PaymentPending => ({
  type: 'payment.pending',
  orderId: context.orderId,
  commandId: event.commandId,
  state,
});

const errorOf = (event: unknown) => (event as { error?: EffectErrorData }).error;
const messageOf = (event: unknown) => errorOf(event)?.message ?? 'the payment provider call failed';
const amountOf = (event: PaymentCommand) => (event.type === 'charge' ? event.amount : Number.NaN);
const validAmount = (amount: unknown) => Number.isInteger(amount) && (amount as number) >= 1 && (amount as number) <= MAX_AMOUNT_CENTS;
/** A charge for another amount than the one this payment is for (one order, one amount). */
const differentAmount = ({ context, event }: { context: PaymentContext; event: PaymentCommand }) => amountOf(event) !== context.amount;

/**
 * The payment machine with its effects. The definition (states, transitions) does not depend on them: the panel can
 * draw it from any instance.
 *
 * @example
 * const machine = createPaymentMachine(providerEffects(createProviderClient({ baseUrl })));
 */
export function createPaymentMachine(effects: PaymentEffects) {
  return setup({
    types: {} as { context: PaymentContext; events: PaymentCommand; input: { id: string; address: string } },
    actors: {
      charge: effect(effects.charge),
      refund: effect(effects.refund),
    },
    actions: {
      addChargeWaiter: assign({ chargeWaiters: ({ context, event }) => addWaiter(context.chargeWaiters, event as Waiter) }),
      addRefundWaiter: assign({ refundWaiters: ({ context, event }) => addWaiter(context.refundWaiters, event as Waiter) }),
      startAttempt: assign({
        amount: ({ event }) => amountOf(event as PaymentCommand),
        reason: undefined,
        retryAfterMs: undefined,
      }),
      answerPending: answerAsk(({ context, event }: Args) => pending(context, event, 'charging')),
      refuseAmount: answer(({ context, event }: Args) =>
        chargeFailed(
          context,
          event,
          ChargeFailureCode.AmountMismatch,
          `order ${context.orderId} is charged ${context.amount} cents; a charge of ${event.amount} cents was refused (one order, one amount)`,
        ),
      ),
    },
  }).createMachine({
    id: 'payment',
    context: ({ input }) => ({
      orderId: input.id,
      amount: 0,
      attempts: 0,
      chargeWaiters: [],
      refundWaiters: [],
      refundPending: false,
    }),
    initial: 'idle',
    states: {
      idle: {
        on: {
          charge: [
            {
              guard: ({ event }) => !validAmount(event.amount),
              actions: answer(({ context, event }: Args) =>
                chargeFailed(
                  context,
                  event,
                  ChargeFailureCode.InvalidAmount,
                  `amount must be a whole number of cents from 1 to ${MAX_AMOUNT_CENTS}, got ${JSON.stringify(event.amount)}`,
                ),
              ),
            },
            { target: 'charging', actions: ['startAttempt', 'addChargeWaiter', 'answerPending'] },
          ],
          refund: {
            target: 'voided',
            actions: [
              assign({ reason: 'refund asked before any charge: nothing to refund, and the payment can no longer be charged', refunded: 0 }),
              answer(({ context, event }: Args) => refunded(context, event)),
              publish(({ context }) => ({ type: 'PaymentVoided', orderId: context.orderId, reason: context.reason })),
            ],
          },
        },
      },

      charging: {
        entry: assign({ attempts: ({ context }) => context.attempts + 1 }),
        invoke: {
          id: 'charge',
          src: 'charge',
          input: ({ context }) => ({ orderId: context.orderId, amount: context.amount }),
          onDone: {
            target: 'chargeLanded',
            actions: [
              assign({ chargeId: ({ event }) => event.output.chargeId }),
              publish(({ context }) => ({
                type: 'PaymentCharged',
                orderId: context.orderId,
                chargeId: context.chargeId,
                amount: context.amount,
                attempts: context.attempts,
              })),
              tellWaiters('chargeWaiters', (context, waiter) => charged(context, waiter)),
              assign({ chargeWaiters: [] }),
            ],
          },
          onError: [
            {
              guard: ({ event }) => isRefusal(errorOf(event)),
              target: 'declined',
              actions: [
                assign({ reason: ({ event }) => messageOf(event) }),
                publish(({ context }) => ({ type: 'PaymentDeclined', orderId: context.orderId, amount: context.amount, reason: context.reason })),
                tellWaiters('chargeWaiters', (context, waiter) => chargeOutcome(context, waiter, true)),
                assign({ chargeWaiters: [] }),
              ],
            },
            {
              target: 'chargeFailed',
              actions: [
                assign({ reason: ({ event }) => messageOf(event), retryAfterMs: ({ event }) => errorOf(event)?.retryAfterMs }),
                publish(({ context }) => ({
                  type: 'PaymentFailed',
                  orderId: context.orderId,
                  amount: context.amount,
                  reason: context.reason,
                  attempts: context.attempts,
                })),
                tellWaiters('chargeWaiters', (context, waiter) => chargeOutcome(context, waiter, false)),
                assign({ chargeWaiters: [] }),
              ],
            },
          ],
        },
        on: {
          charge: [{ guard: differentAmount, actions: 'refuseAmount' }, { actions: ['addChargeWaiter', 'answerPending'] }],
          refund: { actions: [assign({ refundPending: true }), 'addRefundWaiter', answerAsk(({ context, event }: Args) => pending(context, event, 'charging'))] },
        },
      },

      // Where a charge that landed goes: refunded at once if a refund was asked meanwhile.
      chargeLanded: { always: [{ guard: ({ context }) => context.refundPending, target: 'refunding' }, { target: 'charged' }] },
      // A failed charge with a refund asked meanwhile still settles the charge key: the provider may have charged.
      chargeFailed: { always: [{ guard: ({ context }) => context.refundPending, target: 'refunding' }, { target: 'failed' }] },

      charged: {
        on: {
          charge: [{ guard: differentAmount, actions: 'refuseAmount' }, { actions: answer(({ context, event }: Args) => charged(context, event)) }],
          refund: { target: 'refunding', actions: ['addRefundWaiter', answerAsk(({ context, event }: Args) => pending(context, event, 'refunding'))] },
        },
      },

      declined: {
        on: {
          charge: [
            { guard: differentAmount, actions: 'refuseAmount' },
            { actions: answer(({ context, event }: Args) => chargeOutcome(context, event, true)) },
          ],
          refund: {
            target: 'voided',
            actions: [
              assign({ refunded: 0 }),
              answer(({ context, event }: Args) => refunded(context, event)),
              publish(({ context }) => ({ type: 'PaymentVoided', orderId: context.orderId, reason: `the charge was declined: ${context.reason}` })),
            ],
          },
        },
      },

      failed: {
        on: {
          charge: [
            { guard: differentAmount, actions: 'refuseAmount' },
            { target: 'charging', actions: ['startAttempt', 'addChargeWaiter', 'answerPending'] },
          ],
          refund: { target: 'refunding', actions: ['addRefundWaiter', answerAsk(({ context, event }: Args) => pending(context, event, 'refunding'))] },
        },
      },

      refunding: {
        entry: assign({ refundPending: false }),
        invoke: {
          id: 'refund',
          src: 'refund',
          input: ({ context }) => ({ orderId: context.orderId, chargeId: context.chargeId, amount: context.amount }),
          onDone: [
            {
              guard: ({ event }) => event.output.refundId === undefined,
              target: 'voided',
              actions: [
                assign({ refunded: 0, reason: 'no charge had landed at the provider; its charge key is voided, so none ever will' }),
                publish(({ context }) => ({ type: 'PaymentVoided', orderId: context.orderId, reason: context.reason })),
                tellWaiters('refundWaiters', (context, waiter) => refunded(context, waiter)),
                assign({ refundWaiters: [] }),
              ],
            },
            {
              target: 'refunded',
              actions: [
                assign({
                  refundId: ({ event }) => event.output.refundId,
                  chargeId: ({ context, event }) => event.output.chargeId ?? context.chargeId,
                  refunded: ({ event }) => event.output.amount,
                  reason: undefined,
                }),
                publish(({ context }) => ({ type: 'PaymentRefunded', orderId: context.orderId, refundId: context.refundId, amount: context.refunded })),
                tellWaiters('refundWaiters', (context, waiter) => refunded(context, waiter)),
                assign({ refundWaiters: [] }),
              ],
            },
          ],
          onError: {
            target: 'refundFailed',
            actions: [
              assign({ reason: ({ event }) => `refund failed: ${messageOf(event)}`, retryAfterMs: ({ event }) => errorOf(event)?.retryAfterMs }),
              publish(({ context }) => ({ type: 'PaymentRefundFailed', orderId: context.orderId, reason: context.reason })),
              tellWaiters('refundWaiters', (context, waiter, event) => refundFailed(context, waiter, !isRefusal(errorOf(event)))),
              assign({ refundWaiters: [] }),
            ],
          },
        },
        on: {
          charge: {
            actions: answer(({ context, event }: Args) =>
              chargeFailed(context, event, ChargeFailureCode.Refunded, `order ${context.orderId} is being refunded; it is not charged again`),
            ),
          },
          refund: { actions: ['addRefundWaiter', answerAsk(({ context, event }: Args) => pending(context, event, 'refunding'))] },
        },
      },

      // A failed refund goes back to where it started; the saga (or a person) asks again.
      refundFailed: { always: [{ guard: ({ context }) => context.chargeId !== undefined, target: 'charged' }, { target: 'failed' }] },

      refunded: {
        on: {
          charge: {
            actions: answer(({ context, event }: Args) =>
              chargeFailed(context, event, ChargeFailureCode.Refunded, `order ${context.orderId} was charged and refunded; it is not charged again`),
            ),
          },
          refund: { actions: answer(({ context, event }: Args) => refunded(context, event)) },
        },
      },

      voided: {
        on: {
          charge: {
            actions: answer(({ context, event }: Args) =>
              chargeFailed(context, event, ChargeFailureCode.Voided, `the payment of order ${context.orderId} was voided (${context.reason}); it can never be charged`),
            ),
          },
          refund: { actions: answer(({ context, event }: Args) => refunded(context, event)) },
        },
      },
    },
  });
}

/**
 * The `payment` actor type, its effects calling the provider through one shared client.
 *
 * @example
 * const node = await createNode({ service: 'payment', actors: [definePaymentActor(providerEffects(provider))] });
 */
export function definePaymentActor(effects: PaymentEffects): ActorDefinition {
  return defineActor('payment', createPaymentMachine(effects), { history: { keep: 20 } });
}
