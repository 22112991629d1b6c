/**
 * The `order` actor: one order's lifecycle, `draft` → `pending` → `confirmed` | `cancelled`. Creating it publishes
 * `OrderCreated` and starts the fulfillment saga (`order/fulfillment/<orderId>`); the saga then confirms or cancels it. Every command is
 * idempotent: a repeat answers the same and changes nothing, and a terminal order answers any later command with
 * the outcome that stands.
 */
import { assign, setup } from 'xstate';
import { defineActor, participant, publish, tell } from '../../runtime/index.ts';
import { fulfillmentAddress, ORDER_ACTOR, type CreateReply, type OrderContext, type OrderMessage, type OrderReply } from './protocol.ts';

type Args = { context: OrderContext; event: OrderMessage };

const confirmed = ({ context, event }: Args): OrderReply => ({
  type: 'order.confirmed',
  orderId: context.orderId,
  commandId: 'commandId' in event ? event.commandId : undefined,
});

const cancelled = ({ context, event }: Args): OrderReply => ({
  type: 'order.cancelled',
  orderId: context.orderId,
  commandId: 'commandId' in event ? event.commandId : undefined,
  reason: context.reason ?? '',
});

/** Tells the command's `replyTo` (a saga) and answers an `ask`, with the same reply. */
const { answer } = participant<OrderReply>();

const created =
  (isNew: boolean) =>
  ({ context, event }: Args): CreateReply => ({
    type: 'order.created',
    orderId: context.orderId,
    commandId: 'commandId' in event ? event.commandId : undefined,
    created: isNew,
  });

export const orderMachine = setup({
  types: {} as { context: OrderContext; events: OrderMessage; input: { id: string } },
}).createMachine({
  id: ORDER_ACTOR,
  context: ({ input }) => ({ orderId: input.id, customer: null, lines: [], address: null, total: 0, createdAt: 0, updatedAt: 0 }),
  initial: 'draft',
  states: {
    // Never created: a stray confirm cannot conjure an order; a cancel (compensating a create that timed out) closes
    // the draft, so the create, if it arrives late, finds it cancelled.
    draft: {
      on: {
        cancel: {
          target: 'cancelled',
          actions: [assign({ reason: ({ event }) => event.reason, updatedAt: () => Date.now() }), answer(cancelled)],
        },
        create: {
          target: 'pending',
          actions: [
            assign(({ event }) => {
              const now = Date.now();
              return { customer: event.customer, lines: event.lines, address: event.address, total: event.total, createdAt: now, updatedAt: now };
            }),
            publish(({ context }: Args) => ({
              type: 'OrderCreated',
              orderId: context.orderId,
              customer: context.customer,
              lines: context.lines,
              address: context.address,
              total: context.total,
            })),
            // The saga starts in the same atomic step as the order (through the outbox): no order without one. It
            // starts past its createOrder step — this turn took it — rather than ask for an order that exists.
            tell(
              ({ context }: Args) => fulfillmentAddress(context.orderId),
              ({ context }: Args) => ({
                type: 'saga.start',
                data: { orderId: context.orderId, customer: context.customer, lines: context.lines, address: context.address, total: context.total },
                done: ['createOrder'],
              }),
              { id: ({ context }: Args) => `start:${context.orderId}` },
            ),
            answer(created(true)),
          ],
        },
      },
    },
    // Waiting for the saga: it confirms once stock, payment and shipment are in place, or cancels with the reason.
    pending: {
      on: {
        create: { actions: answer(created(false)) },
        confirm: {
          target: 'confirmed',
          actions: [
            assign({ updatedAt: () => Date.now() }),
            publish(({ context }: Args) => ({ type: 'OrderConfirmed', orderId: context.orderId, total: context.total })),
            answer(confirmed),
          ],
        },
        cancel: {
          target: 'cancelled',
          actions: [
            assign({ reason: ({ event }) => event.reason, updatedAt: () => Date.now() }),
            publish(({ context }: Args) => ({ type: 'OrderCancelled', orderId: context.orderId, reason: context.reason })),
            answer(cancelled),
          ],
        },
      },
    },
    confirmed: {
      on: {
        create: { actions: answer(created(false)) },
        confirm: { actions: answer(confirmed) },
        cancel: { actions: answer(confirmed) },
      },
    },
    cancelled: {
      on: {
        create: { actions: answer(created(false)) },
        confirm: { actions: answer(cancelled) },
        cancel: { actions: answer(cancelled) },
      },
    },
  },
});

export const orderActor = defineActor(ORDER_ACTOR, orderMachine, { history: { keep: 20 } });
