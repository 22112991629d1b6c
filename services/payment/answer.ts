/**
 * How the payment actor answers: the same reply goes to the command's `replyTo` actor (the saga) as a message and,
 * when the command came through `node.ask` (an HTTP handler), back to the asker. When the outcome comes from a later
 * turn (the provider's answer), every command that waited for it is told, each with its own `commandId`.
 */
import { enqueueActions } from 'xstate';
import { reply, tell, type MailroomEvent } from '../../runtime/index.ts';
import { isAddress, type PaymentContext, type Waiter } from './protocol.ts';

type Args = { context: PaymentContext; event: any };

/** Commands waiting at once on one outcome, at most (the oldest are dropped; their senders retry). */
const MAX_WAITERS = 16;

/**
 * Answers the command being processed: tells its `replyTo` and replies to an ask.
 *
 * @example
 * on: { charge: { actions: answer(({ context, event }) => charged(context, event)) } }
 */
// The helpers return `any`, as the runtime's own actions do: XState cannot relate an action built outside a machine
// to that machine's event union.
export function answer(build: (args: Args) => MailroomEvent): any {
  return enqueueActions(({ context, event, enqueue }: Args & { enqueue: any }) => {
    const message = build({ context, event });
    if (isAddress(event.replyTo)) enqueue(tell(event.replyTo, message));
    enqueue(reply(message));
  });
}

/** Replies to an ask only: for a command whose outcome is still to come (its sender is told later). */
export function answerAsk(build: (args: Args) => MailroomEvent): any {
  return reply((args: Args) => build(args));
}

/**
 * Tells every waiter of `list` the outcome, with its own commandId.
 *
 * @example
 * onDone: { actions: tellWaiters('chargeWaiters', (context, waiter) => charged(context, waiter)) }
 */
export function tellWaiters(
  list: 'chargeWaiters' | 'refundWaiters',
  build: (context: PaymentContext, waiter: Waiter, event: any) => MailroomEvent,
): any {
  return enqueueActions(({ context, event, enqueue }: Args & { enqueue: any }) => {
    for (const waiter of context[list]) {
      if (isAddress(waiter.replyTo)) enqueue(tell(waiter.replyTo, build(context, waiter, event)));
    }
  });
}

/** `list` with the command's waiter added (once; only commands with a `replyTo` wait). */
export function withWaiter(list: Waiter[], event: Waiter): Waiter[] {
  if (!isAddress(event.replyTo)) return list;
  const waiter: Waiter = { replyTo: event.replyTo };
  if (typeof event.commandId === 'string') waiter.commandId = event.commandId;
  if (list.some((w) => w.replyTo === waiter.replyTo && w.commandId === waiter.commandId)) return list;
  return [...list, waiter].slice(-MAX_WAITERS);
}
