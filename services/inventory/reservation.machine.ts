/**
 * The `reservation` actor (`inventory/reservation/<orderId>`): an order's stock, all or nothing. `reserve` asks
 * every SKU of the order to hold its units and waits in `holding` for every answer; if all held it is `reserved`,
 * otherwise it gives back what was held and is `rejected` with a reason naming each short SKU. Waiting for every
 * answer before deciding means a release is only ever sent for a hold that already happened. From `reserved` the
 * saga either commits (the stock ships) or releases it (compensation). Every command is idempotent: a repeat is
 * answered with the same outcome and changes nothing.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { defineActor, participant, publish, reply, tell, waiterOf, withWaiter, type Waiter } from '../../runtime/index.ts';
import {
  linesProblem,
  mergeLines,
  reservationAddress,
  skuAddress,
  type InventoryReply,
  type Line,
  type ReservationCommand,
  type ReservationContext,
  type ReservationMessage,
  type SkuReply,
} from './protocol.ts';

type Cmd<T extends ReservationCommand['type']> = ReservationCommand & { type: T };
type Ctx = ReservationContext;
type Reply<T extends InventoryReply['type']> = Extract<InventoryReply, { type: T }>;

const { answer, answerWaiters } = participant<InventoryReply>();

const answered = (c: Ctx) => Object.keys(c.held).length + c.shortages.length === c.lines.length;
const awaits = (c: Ctx, sku: string) =>
  c.lines.some((l) => l.sku === sku) && !Object.hasOwn(c.held, sku) && !c.shortages.some((s) => s.sku === sku);

/** Tells each SKU in `skusOf` one message about this order (hold, release or commit). */
const tellSkus = (skusOf: (c: Ctx) => Line[], message: (c: Ctx, line: Line) => Record<string, unknown> & { type: string }): any =>
  enqueueActions((({ context, enqueue }: { context: Ctx; enqueue: any }) => {
    for (const line of skusOf(context)) enqueue(tell(skuAddress(line.sku), message(context, line)));
  }) as any);

const heldLines = (c: Ctx): Line[] => Object.entries(c.held).map(([sku, qty]) => ({ sku, qty }));

const reserved = (c: Ctx, w: Waiter): Reply<'inventory.reserved'> => ({ type: 'inventory.reserved', orderId: c.orderId, commandId: w.commandId, lines: c.lines });
const rejected = (c: Ctx, w: Waiter): Reply<'inventory.rejected'> => ({
  type: 'inventory.rejected',
  orderId: c.orderId,
  commandId: w.commandId,
  reason: c.reason ?? 'rejected',
  shortages: c.shortages,
});
const released = (c: Ctx, w: Waiter): Reply<'inventory.released'> => ({ type: 'inventory.released', orderId: c.orderId, commandId: w.commandId });
const committed = (c: Ctx, w: Waiter): Reply<'inventory.committed'> => ({ type: 'inventory.committed', orderId: c.orderId, commandId: w.commandId });
const commitFailed = (c: Ctx, w: Waiter, reason: string): Reply<'inventory.commitFailed'> => ({ type: 'inventory.commitFailed', orderId: c.orderId, commandId: w.commandId, reason });

export const reservationMachine = setup({
  types: {} as { context: Ctx; events: ReservationMessage; input: { id: string } },
}).createMachine({
  id: 'reservation',
  context: ({ input }) => ({ orderId: input.id, lines: [], held: {}, shortages: [], reason: null, waiters: [], releaseWaiters: [] }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        reserve: [
          {
            guard: ({ event }) => linesProblem(event.lines) !== null,
            target: 'rejected',
            actions: assign(({ event }) => ({ reason: `invalid reserve command: ${linesProblem(event.lines)}`, waiters: [waiterOf(event)] })),
          },
          {
            target: 'holding',
            actions: assign(({ event }) => ({ lines: mergeLines(event.lines), waiters: [waiterOf(event)] })),
          },
        ],
        // Released before anything was held: nothing to give back, and a late reserve will be refused.
        release: { target: 'released', actions: answer<Ctx, Cmd<'release'>>(({ context, event }) => released(context, event)) },
        commit: {
          actions: answer<Ctx, Cmd<'commit'>>(({ context, event }) => commitFailed(context, event, `order ${context.orderId} has no reservation to commit`)),
        },
      },
    },
    holding: {
      entry: tellSkus(
        (c) => c.lines,
        (c, line) => ({ type: 'sku.hold', orderId: c.orderId, qty: line.qty, replyTo: reservationAddress(c.orderId) }),
      ),
      always: [
        {
          guard: ({ context }) => answered(context) && context.releaseWaiters.length > 0,
          target: 'released',
          actions: [
            tellSkus(heldLines, (c) => ({ type: 'sku.release', orderId: c.orderId })),
            assign(({ context }) => ({ reason: `released before the stock of order ${context.orderId} was held`, held: {} })),
            answerWaiters((c: Ctx) => c.waiters, rejected),
            answerWaiters((c: Ctx) => c.releaseWaiters, released),
            assign({ waiters: [], releaseWaiters: [] }),
          ],
        },
        { guard: ({ context }) => answered(context) && context.shortages.length === 0, target: 'reserved' },
        {
          guard: ({ context }) => answered(context),
          target: 'rejected',
          actions: [
            // All or nothing: whatever the other SKUs held goes back.
            tellSkus(heldLines, (c) => ({ type: 'sku.release', orderId: c.orderId })),
            assign(({ context }) => ({ reason: context.shortages.map((s) => s.reason).join('; '), held: {} })),
          ],
        },
      ],
      on: {
        'sku.held': {
          guard: ({ context, event }) => event.orderId === context.orderId && awaits(context, event.sku),
          actions: assign(({ context, event }) => ({ held: { ...context.held, [event.sku]: event.qty } })),
        },
        'sku.short': {
          guard: ({ context, event }) => event.orderId === context.orderId && awaits(context, event.sku),
          actions: assign(({ context, event }) => ({
            shortages: [...context.shortages, { sku: event.sku, requested: event.requested, available: event.available, reason: event.reason }],
          })),
        },
        // A retried reserve joins the wait; its sender hears the outcome with its own commandId.
        reserve: {
          actions: assign(({ context, event }) => ({ waiters: withWaiter(context.waiters, waiterOf(event)) })),
        },
        release: {
          actions: assign(({ context, event }) => ({ releaseWaiters: withWaiter(context.releaseWaiters, waiterOf(event)) })),
        },
        commit: {
          actions: answer<Ctx, Cmd<'commit'>>(({ context, event }) =>
            commitFailed(context, event, `order ${context.orderId} is still holding stock; commit once it is reserved`),
          ),
        },
      },
    },
    reserved: {
      entry: [
        answerWaiters((c: Ctx) => c.waiters, reserved),
        assign({ waiters: [] }),
        publish(({ context }: { context: Ctx }) => ({ type: 'InventoryReserved', data: { orderId: context.orderId, lines: context.lines } })),
      ],
      on: {
        reserve: { actions: answer<Ctx, Cmd<'reserve'>>(({ context, event }) => reserved(context, event)) },
        release: {
          target: 'released',
          actions: [
            tellSkus((c) => c.lines, (c) => ({ type: 'sku.release', orderId: c.orderId })),
            assign({ held: {} }),
            answer<Ctx, Cmd<'release'>>(({ context, event }) => released(context, event)),
          ],
        },
        commit: {
          target: 'committed',
          actions: [
            tellSkus((c) => c.lines, (c) => ({ type: 'sku.commit', orderId: c.orderId })),
            answer<Ctx, Cmd<'commit'>>(({ context, event }) => committed(context, event)),
          ],
        },
      },
    },
    rejected: {
      entry: [
        answerWaiters((c: Ctx) => c.waiters, rejected),
        // An invalid reserve is rejected in the turn it arrives: answer an asker too.
        reply(({ context }: { context: Ctx }) => rejected(context, context.waiters[0] ?? {})),
        assign({ waiters: [] }),
        publish(({ context }: { context: Ctx }) => ({ type: 'InventoryRejected', data: { orderId: context.orderId, reason: context.reason } })),
      ],
      on: {
        reserve: { actions: answer<Ctx, Cmd<'reserve'>>(({ context, event }) => rejected(context, event)) },
        // Nothing is held any more: releasing is already done.
        release: { actions: answer<Ctx, Cmd<'release'>>(({ context, event }) => released(context, event)) },
        commit: {
          actions: answer<Ctx, Cmd<'commit'>>(({ context, event }) => commitFailed(context, event, `order ${context.orderId} was rejected: ${context.reason}`)),
        },
        'sku.held': { actions: releaseStray() },
      },
    },
    released: {
      entry: publish(({ context }: { context: Ctx }) => ({ type: 'InventoryReleased', data: { orderId: context.orderId } })),
      on: {
        reserve: {
          actions: answer<Ctx, Cmd<'reserve'>>(({ context, event }) => ({
            ...rejected(context, event),
            reason: `the reservation of order ${context.orderId} was released; reserve under a new order id`,
          })),
        },
        release: { actions: answer<Ctx, Cmd<'release'>>(({ context, event }) => released(context, event)) },
        commit: {
          actions: answer<Ctx, Cmd<'commit'>>(({ context, event }) => commitFailed(context, event, `the reservation of order ${context.orderId} was released`)),
        },
        'sku.held': { actions: releaseStray() },
      },
    },
    committed: {
      entry: publish(({ context }: { context: Ctx }) => ({ type: 'InventoryCommitted', data: { orderId: context.orderId } })),
      on: {
        reserve: { actions: answer<Ctx, Cmd<'reserve'>>(({ context, event }) => reserved(context, event)) },
        commit: { actions: answer<Ctx, Cmd<'commit'>>(({ context, event }) => committed(context, event)) },
        release: {
          actions: answer<Ctx, Cmd<'release'>>(({ context, event }) => ({
            type: 'inventory.releaseFailed',
            orderId: context.orderId,
            commandId: event.commandId,
            reason: `the stock of order ${context.orderId} was committed (shipped) and cannot be released`,
          })),
        },
      },
    },
  },
});

/**
 * A hold confirmed after the reservation stopped wanting it (it cannot happen in the protocol above, which waits
 * for every answer, but a stray must never keep stock locked): give it straight back. Releasing is idempotent.
 */
function releaseStray(): any {
  return enqueueActions((({ context, event, enqueue }: { context: Ctx; event: SkuReply; enqueue: any }) => {
    if (event.orderId === context.orderId) enqueue(tell(skuAddress(event.sku), { type: 'sku.release', orderId: context.orderId }));
  }) as any);
}

export const reservation = defineActor('reservation', reservationMachine, { history: { keep: 20 } });
