/**
 * The choreography: the notifications service follows the order service's event log through its own consumer group
 * and turns each order event into a message to that order's notice actor, with the event's id as the message id.
 * The handler returns once the message is in the actor's mailbox; only then is the event acked, so a kill between
 * the two re-delivers the event (pending first, from the group's position) and the repeat is dropped by its id — and,
 * past the dedup window, by the actor itself, which records one notice and then ignores everything.
 */
import { isGapNotice, subscribeEvents, UnknownServiceError, type DomainEvent, type EventSubscription, type MailroomNode } from '../../runtime/index.ts';
import { noticeAddress, SUBSCRIBER_GROUP, type NoticeMessage, type Recipient } from './protocol.ts';

/** The order service's log, as the subscriber reads it (see `services/order/protocol.ts`, `OrderEvent`). */
const ORDER_SERVICE = 'order';

/**
 * The message an order event becomes, or null for events that are no customer's business (sagas' steps).
 *
 * @example
 * messageOf({ type: 'OrderConfirmed', orderId: 'ord-1', total: 598, id: 'e1', … }); // { type: 'order.confirmed', … }
 */
export function messageOf(event: DomainEvent): NoticeMessage | null {
  const orderId = typeof event.orderId === 'string' ? event.orderId : null;
  if (!orderId) return null;
  const eventId = event.id;
  switch (event.type) {
    case 'OrderCreated':
      return { type: 'order.created', eventId, orderId, customer: event.customer as Recipient, total: Number(event.total) };
    case 'OrderConfirmed':
      return { type: 'order.confirmed', eventId, orderId, total: Number(event.total) };
    case 'OrderCancelled':
      return { type: 'order.cancelled', eventId, orderId, reason: String(event.reason ?? '') };
    default:
      return null;
  }
}

/**
 * Subscribes the node's notice actors to the order log. The consumer name is fixed, so a restarted process resumes
 * its own pending events before new ones.
 *
 * @example
 * const subscription = await subscribeNotices(node, { redis: redisUrlOf() });
 * onShutdown(() => subscription.stop());
 */
export function subscribeNotices(
  node: Pick<MailroomNode, 'send' | 'inspect' | 'keyPrefix'>,
  options: { redis: string; onError?: (error: unknown) => void },
): Promise<EventSubscription> {
  return subscribeEvents({
    service: ORDER_SERVICE,
    group: SUBSCRIBER_GROUP,
    consumer: `${SUBSCRIBER_GROUP}-1`,
    redis: options.redis,
    keyPrefix: node.keyPrefix,
    inspect: (event) => node.inspect(event),
    onError: options.onError,
    handler: async (event) => {
      // A gap is reported (subscriber.gap, in the panel); the orders it hides settle without a notice, or with one
      // addressed to nobody if their settling event survived — never with two.
      if (isGapNotice(event)) return;
      const message = messageOf(event);
      if (message) await node.send(noticeAddress(message.orderId), message, { id: `order-event:${event.id}`, from: event.aggregate });
    },
  });
}

/**
 * `subscribeNotices`, once the order service has registered its log (a process started beside it may come first):
 * tries again every `retryMs` until it has, or until `stop()`.
 *
 * @example
 * const following = followOrderLog(node, { redis: redisUrlOf() });
 * onShutdown(() => following.stop());
 */
export function followOrderLog(
  node: Pick<MailroomNode, 'send' | 'inspect' | 'keyPrefix'>,
  options: { redis: string; retryMs?: number; onError?: (error: unknown) => void; onWaiting?: (error: UnknownServiceError) => void },
): { ready: Promise<EventSubscription | null>; stop(): Promise<void> } {
  let stopped = false;
  const ready = (async () => {
    while (!stopped) {
      try {
        const subscription = await subscribeNotices(node, options);
        if (!stopped) return subscription;
        await subscription.stop();
      } catch (error) {
        if (!(error instanceof UnknownServiceError)) throw error;
        options.onWaiting?.(error);
        await Bun.sleep(options.retryMs ?? 500);
      }
    }
    return null;
  })();
  return {
    ready,
    async stop() {
      stopped = true;
      await (await ready.catch(() => null))?.stop();
    },
  };
}
