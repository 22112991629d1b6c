/**
 * How a shipping actor answers: the same reply goes to the command's `replyTo` actor (the saga) as a message and,
 * when the command came through `node.ask` (an HTTP handler), back to the asker. A `replyTo` that is not an actor
 * address is never told (see `isAddress`). Inventory has the same helper; a shared one would live in the runtime.
 */
import { enqueueActions } from 'xstate';
import { reply, tell, type MailroomEvent } from '../../runtime/index.ts';
import { isAddress, type Waiter } from './protocol.ts';

/**
 * Answers the command being processed.
 *
 * @example
 * on: { cancel: { actions: answer(({ context, event }) => ({ type: 'shipping.cancelled', orderId: context.orderId, commandId: event.commandId })) } }
 */
export function answer<C, E extends Waiter>(build: (args: { context: C; event: E }) => MailroomEvent): any {
  // Typed loosely, as the runtime's own `tell` and `reply` are: it goes into machines of any event union.
  return enqueueActions((({ context, event, enqueue }: { context: C; event: E; enqueue: any }) => {
    const message = build({ context, event });
    if (isAddress(event.replyTo)) enqueue(tell(event.replyTo, message));
    enqueue(reply(message));
  }) as any);
}
