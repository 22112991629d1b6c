/**
 * How an inventory actor answers: the same reply goes to the command's `replyTo` actor (the saga) as a message and,
 * when the command came through `node.ask` (an HTTP handler), back to the asker. A `replyTo` that is not an actor
 * address is never told (see `isAddress`).
 */
import { enqueueActions } from 'xstate';
import { reply, tell, type MailroomEvent } from '../../runtime/index.ts';
import { isAddress, type Waiter } from './protocol.ts';

type Args<C, E> = { context: C; event: E };

/**
 * Answers the command being processed.
 *
 * @example
 * on: { commit: { actions: answer(({ context, event }) => ({ type: 'inventory.committed', orderId: context.orderId, commandId: event.commandId })) } }
 */
export function answer<C, E extends Waiter>(build: (args: Args<C, E>) => MailroomEvent): any {
  // Typed loosely, as the runtime's own `tell` and `reply` are: it goes into machines of any event union.
  return enqueueActions((({ context, event, enqueue }: { context: C; event: E; enqueue: any }) => {
    const message = build({ context, event });
    if (isAddress(event.replyTo)) enqueue(tell(event.replyTo, message));
    enqueue(reply(message));
  }) as any);
}

/** Tells every waiter the outcome (with its own commandId); used when the outcome comes from a later turn. */
export function answerWaiters<C>(waitersOf: (context: C) => Waiter[], build: (context: C, waiter: Waiter) => MailroomEvent): any {
  return enqueueActions((({ context, enqueue }: { context: C; enqueue: any }) => {
    for (const waiter of waitersOf(context)) {
      if (isAddress(waiter.replyTo)) enqueue(tell(waiter.replyTo, build(context, waiter)));
    }
  }) as any);
}

/** The waiter of a command: where to answer and the id to echo (absent fields stay absent). */
export function waiterOf(event: Waiter): Waiter {
  const w: Waiter = {};
  if (typeof event.replyTo === 'string') w.replyTo = event.replyTo;
  if (typeof event.commandId === 'string') w.commandId = event.commandId;
  return w;
}
