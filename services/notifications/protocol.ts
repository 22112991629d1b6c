/**
 * The notifications service's contract, declared before anything uses it: the `notice` actor (one per order,
 * `notifications/notice/<orderId>`), the messages the order-log subscriber sends it, the notice it records, the
 * domain event that records it on the outbox (this service's own event log), and the HTTP schemas and error codes.
 * Nothing is e-mailed: a recorded notice is the outbox entry a mail sender would take.
 */
import { t } from 'elysia';
import { pageLimit, type DocumentTag } from '../../runtime/http/index.ts';
import { OrderId } from '../shared/shop-vocabulary.ts';

export const SERVICE = 'notifications';

/** The consumer group on the order service's event log; its position is where a restarted process goes on. */
export const SUBSCRIBER_GROUP = 'notifications';

/** What the notifications service's OpenAPI document says first, and its tags. */
export const NOTIFICATIONS_API = {
  description:
    'Customer notices, by choreography: the service follows the order service’s event log (consumer group `notifications`) and records exactly one confirmation or cancellation notice per settled order, in an outbox (no e-mail is sent). Each order’s notice is an actor that records it in the turn of the event that settled the order.',
  tags: [{ name: 'notifications', description: 'The outbox: the notices recorded, by order or paged' }] satisfies DocumentTag[],
};

export const NOTICE_ACTOR = 'notice';
export const noticeAddress = (orderId: string) => `${SERVICE}/${NOTICE_ACTOR}/${orderId}`;

export const NOTICE_KINDS = ['confirmation', 'cancellation'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** The notice actor's states: the customer is not known yet, is known, or the one notice is recorded. */
export const NOTICE_STATES = ['unknown', 'awaiting', 'confirmationSent', 'cancellationSent'] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];
export const SENT_STATES: readonly NoticeState[] = ['confirmationSent', 'cancellationSent'];

export type Recipient = { name: string; email: string };

/** One recorded notice: what a mail sender would send. */
export type Notice = {
  orderId: string;
  kind: NoticeKind;
  /** null when the order's OrderCreated was never seen (a gap in the log): there is no address to send to. */
  to: Recipient | null;
  subject: string;
  text: string;
  /** The order event that settled the order (its stable id). */
  eventId: string;
  /** When the notice was recorded (ms since the epoch). */
  sentAt: number;
};

export type NoticeContext = {
  orderId: string;
  customer: Recipient | null;
  total: number | null;
  notice: Notice | null;
};

/** What the subscriber tells a notice actor, one message per order event; the message id is the event's id. */
export type NoticeMessage =
  | { type: 'order.created'; eventId: string; orderId: string; customer: Recipient; total: number }
  | { type: 'order.confirmed'; eventId: string; orderId: string; total: number }
  | { type: 'order.cancelled'; eventId: string; orderId: string; reason: string };

/** The domain event on this service's log (its outbox) that records a notice, in the turn that decides it. */
export type NotificationsEvent = { type: 'NoticeSent'; notice: Notice };

// ── HTTP schemas ───────────────────────────────────────────────────────────────────────────────────────────────

export const PAGE_LIMIT = { min: 1, max: 100, default: 20 } as const;

export const NoticeSchema = t.Object(
  {
    orderId: OrderId(),
    kind: t.Union([t.Literal('confirmation'), t.Literal('cancellation')]),
    to: t.Union([t.Object({ name: t.String(), email: t.String() }), t.Null()], { description: 'The customer; null when the order’s OrderCreated was never seen' }),
    subject: t.String(),
    text: t.String(),
    eventId: t.String({ description: 'The order event that settled the order' }),
    sentAt: t.Number({ description: 'When the notice was recorded, ms since the epoch' }),
  },
  { description: 'One notice in the outbox' },
);

export const NoticePageSchema = t.Object(
  {
    items: t.Array(NoticeSchema),
    cursor: t.Union([t.String(), t.Null()], { description: 'Pass back for the next page; null on the last one' }),
  },
  { description: 'One page of notices' },
);

export const ListNoticesQuerySchema = t.Object({
  orderId: t.Optional(OrderId('Only this order’s notice (a page of at most one)')),
  // The range is checked by the route, so the error names the field (see the order service's list query).
  limit: pageLimit(PAGE_LIMIT, 'Notices per page'),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
  kind: t.Optional(t.Union([t.Literal('confirmation'), t.Literal('cancellation')])),
});

export const NotificationsErrorCode = {
  invalidCursor: 'INVALID_CURSOR',
} as const;
