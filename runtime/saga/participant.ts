/**
 * How an actor takes part in a saga: it answers a command by telling the command's `replyTo` (the saga) and, when
 * the command came through `node.ask` (an HTTP handler), by replying to the asker — the same reply both ways. When
 * the outcome comes from a later turn (an effect, other actors' answers), the commands that asked wait in the
 * context as `Waiter`s and are each told with their own `commandId`. A participant declares its replies once, as a
 * union in its protocol, and binds these helpers to it with `participant<Reply>()`; the saga names the same union
 * in its steps (`SagaStep<Data, Reply, Command>`), so a reply type misspelt on either side does not compile.
 *
 * A `replyTo` that is not an actor address is never told: the runtime would fail the whole partition's commit on
 * it, so a malformed command from outside costs its sender the answer, not everyone else their turn.
 */
import { enqueueActions } from 'xstate';
import { reply, tell, type MailroomEvent } from '../actor/define-actor.ts';
import { isAddress } from '../address.ts';

/** What every reply of a participant carries: its type, and the `commandId` of the command it answers. */
export type ParticipantReply = { type: string; commandId?: string };

/** Who waits for a command's outcome: an actor to tell (optional) and the command's id to echo. */
export type Waiter = { replyTo?: string; commandId?: string };

/** What a participant's actions receive (narrowed per transition by the caller's type arguments). */
export type AnswerArgs<C, E> = { context: C; event: E };

/**
 * The waiter of a command: where to answer and the id to echo (absent fields stay absent).
 *
 * @example
 * waiterOf({ type: 'reserve', replyTo: 'order/fulfillment/o1', commandId: 'o1/reserve/1' }); // { replyTo: …, commandId: … }
 */
export function waiterOf(command: Waiter): Waiter {
  const w: Waiter = {};
  if (typeof command.replyTo === 'string') w.replyTo = command.replyTo;
  if (typeof command.commandId === 'string') w.commandId = command.commandId;
  return w;
}

/**
 * `list` with `waiter` added once (the same replyTo and commandId wait once), keeping the newest `max` (older ones
 * are dropped; their senders retry).
 *
 * @example
 * assign({ waiters: ({ context, event }) => withWaiter(context.waiters, waiterOf(event)) })
 */
export function withWaiter(list: readonly Waiter[], waiter: Waiter, max = Number.POSITIVE_INFINITY): Waiter[] {
  if (list.some((w) => w.replyTo === waiter.replyTo && w.commandId === waiter.commandId)) return list as Waiter[];
  return [...list, waiter].slice(-max);
}

// The actions are typed `any`, as the runtime's own `tell` and `reply` are: XState cannot relate an action built
// outside a machine to that machine's event union, and these go into machines of any union.

/**
 * Answers the command being processed: tells its `replyTo` (if it is an address) and replies to an ask.
 *
 * @example
 * on: { cancel: { actions: answer(({ context, event }) => ({ type: 'shipping.cancelled', orderId: context.orderId, commandId: event.commandId })) } }
 */
export function answer<C = any, E extends Waiter = any, R extends ParticipantReply = ParticipantReply>(build: (args: AnswerArgs<C, E>) => R): any {
  return enqueueActions((({ context, event, enqueue }: AnswerArgs<C, E> & { enqueue: any }) => {
    const message = build({ context, event }) as unknown as MailroomEvent;
    if (isAddress(event.replyTo)) enqueue(tell(event.replyTo, message));
    enqueue(reply(message));
  }) as any);
}

/**
 * Replies to an ask only: for a command whose outcome is still to come (its sender waits and is told later).
 *
 * @example
 * on: { charge: { target: 'charging', actions: answerAsk(({ context, event }) => ({ type: 'payment.pending', orderId: context.orderId, commandId: event.commandId })) } }
 */
export function answerAsk<C = any, E = any, R extends ParticipantReply = ParticipantReply>(build: (args: AnswerArgs<C, E>) => R): any {
  return reply((args: AnswerArgs<C, E>) => build(args));
}

/**
 * Tells every waiter the outcome, each with its own `commandId`; used when the outcome comes from a later turn.
 * Waiters without an address (asks) are not told: their HTTP handler reads the outcome.
 *
 * @example
 * entry: answerWaiters((c: Ctx) => c.waiters, (c, waiter) => ({ type: 'inventory.reserved', orderId: c.orderId, commandId: waiter.commandId }))
 */
export function answerWaiters<C = any, R extends ParticipantReply = ParticipantReply>(
  waitersOf: (context: C) => readonly Waiter[],
  build: (context: C, waiter: Waiter, event: any) => R,
): any {
  return enqueueActions((({ context, event, enqueue }: AnswerArgs<C, any> & { enqueue: any }) => {
    for (const waiter of waitersOf(context)) {
      if (isAddress(waiter.replyTo)) enqueue(tell(waiter.replyTo, build(context, waiter, event) as unknown as MailroomEvent));
    }
  }) as any);
}

/**
 * The answer helpers of one participant, bound to its reply union `R` (and `Pending`, what it replies to an ask
 * whose outcome is still to come — nobody is told that): a reply outside the union does not compile.
 *
 * @example
 * const { answer, answerWaiters } = participant<InventoryReply>();
 * on: { release: { actions: answer<Ctx, Cmd<'release'>>(({ context, event }) => released(context, event)) } }
 */
export function participant<R extends ParticipantReply, Pending extends ParticipantReply = never>() {
  return {
    answer: <C = any, E extends Waiter = any>(build: (args: AnswerArgs<C, E>) => R): any => answer(build),
    answerAsk: <C = any, E = any>(build: (args: AnswerArgs<C, E>) => R | Pending): any => answerAsk(build),
    answerWaiters: <C = any>(waitersOf: (context: C) => readonly Waiter[], build: (context: C, waiter: Waiter, event: any) => R): any =>
      answerWaiters(waitersOf, build),
  };
}
