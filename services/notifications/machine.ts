/**
 * The `notice` actor: one per order, `unknown` → `awaiting` (the customer is known from OrderCreated) →
 * `confirmationSent` | `cancellationSent`. The notice is recorded in the turn of the event that settled the order,
 * with a `NoticeSent` event on this service's log (the outbox) in the same atomic step; once sent, the actor has no
 * transition left, so a repeated, redelivered or contradicting event can never record a second notice. That is what
 * makes "exactly one notice per order" hold by construction; the message id (the order event's id) drops repeats
 * before they reach the machine at all.
 *
 * The sent states are deliberately not `final`: the runtime removes a final actor's record after a while, and a
 * very late redelivery would then meet a fresh actor.
 */
import { assign, setup } from 'xstate';
import { defineActor, publish } from '../../runtime/index.ts';
import { NOTICE_ACTOR, type Notice, type NoticeContext, type NoticeKind, type NoticeMessage } from './protocol.ts';

type Args = { context: NoticeContext; event: NoticeMessage };

const money = (cents: number | null) => (cents === null ? '' : `${(cents / 100).toFixed(2)} in total`);

/** The notice a settling event gives, worded for the customer. */
export function noticeFor(kind: NoticeKind, context: NoticeContext, event: NoticeMessage, sentAt: number): Notice {
  const { orderId, customer } = context;
  const dear = customer ? `Dear ${customer.name}, ` : '';
  const total = event.type === 'order.confirmed' ? event.total : context.total;
  const text =
    kind === 'confirmation'
      ? `${dear}your order ${orderId} is confirmed${total === null ? '' : `: ${money(total)}`}. It is on its way.`
      : `${dear}your order ${orderId} was cancelled${event.type === 'order.cancelled' && event.reason ? ` (${event.reason})` : ''}; nothing was charged or anything charged was refunded.`;
  return {
    orderId,
    kind,
    to: customer,
    subject: kind === 'confirmation' ? `Your order ${orderId} is confirmed` : `Your order ${orderId} was cancelled`,
    text,
    eventId: event.eventId,
    sentAt,
  };
}

const record = (kind: NoticeKind) => [
  assign({ notice: ({ context, event }: Args) => noticeFor(kind, context, event, Date.now()) }),
  publish(({ context }: Args) => ({ type: 'NoticeSent', notice: context.notice })),
];

const settle = {
  'order.confirmed': { target: 'confirmationSent', actions: record('confirmation') },
  'order.cancelled': { target: 'cancellationSent', actions: record('cancellation') },
} as const;

export const noticeMachine = setup({
  types: {} as { context: NoticeContext; events: NoticeMessage; input: { id: string } },
}).createMachine({
  id: NOTICE_ACTOR,
  context: ({ input }) => ({ orderId: input.id, customer: null, total: null, notice: null }),
  initial: 'unknown',
  states: {
    // No OrderCreated seen yet. A settling event here means the log lost it (a gap): the notice is still recorded,
    // once, without an address.
    unknown: {
      on: {
        'order.created': {
          target: 'awaiting',
          actions: assign({ customer: ({ event }) => event.customer, total: ({ event }) => event.total }),
        },
        ...settle,
      },
    },
    awaiting: { on: settle },
    confirmationSent: {},
    cancellationSent: {},
  },
});

export const noticeActor = defineActor(NOTICE_ACTOR, noticeMachine, { history: { keep: 20 } });
