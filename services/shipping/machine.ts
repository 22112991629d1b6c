/**
 * The `shipment` actor (`shipping/shipment/<orderId>`): an order's delivery. `schedule` books a carrier for the
 * destination country and hands out a tracking id (`scheduled`), or is `rejected` when no carrier serves the
 * country; `cancel` is the saga's compensation. Every command is idempotent: a repeat is answered with the same
 * outcome and changes nothing, and a schedule arriving after a cancel is refused rather than booking a parcel
 * nobody will pay for.
 */
import { assign, setup } from 'xstate';
import { defineActor, participant, publish, type Waiter } from '../../runtime/index.ts';
import { carrierFor, trackingIdFor } from './carriers.ts';
import { noCarrierReason, scheduleProblem, type ShipmentCommand, type ShipmentContext, type ShippingReply } from './protocol.ts';

type Ctx = ShipmentContext;
type Cmd<T extends ShipmentCommand['type']> = ShipmentCommand & { type: T };
type Reply<T extends ShippingReply['type']> = Extract<ShippingReply, { type: T }>;

const { answer } = participant<ShippingReply>();

const countryOf = (e: Cmd<'schedule'>) => e.address.country.toUpperCase();

// Only a scheduled shipment answers this, and scheduling set both fields in the same step.
const scheduled = (c: Ctx, e: Waiter): Reply<'shipping.scheduled'> => ({
  type: 'shipping.scheduled',
  orderId: c.orderId,
  commandId: e.commandId,
  trackingId: c.trackingId!,
  carrier: c.carrier!,
});
const rejected = (c: Ctx, e: Waiter, reason = c.reason ?? 'rejected'): Reply<'shipping.rejected'> => ({ type: 'shipping.rejected', orderId: c.orderId, commandId: e.commandId, reason });
const cancelled = (c: Ctx, e: Waiter): Reply<'shipping.cancelled'> => ({ type: 'shipping.cancelled', orderId: c.orderId, commandId: e.commandId });

export const shipmentMachine = setup({
  types: {} as { context: Ctx; events: ShipmentCommand; input: { id: string } },
}).createMachine({
  id: 'shipment',
  context: ({ input }) => ({ orderId: input.id, address: null, lines: [], carrier: null, trackingId: null, reason: null }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        schedule: [
          {
            guard: ({ event }) => scheduleProblem(event) !== null,
            target: 'rejected',
            actions: [
              assign(({ event }) => ({ reason: `invalid schedule command: ${scheduleProblem(event)}` })),
              answer<Ctx, Cmd<'schedule'>>(({ context, event }) => rejected(context, event)),
            ],
          },
          {
            guard: ({ event }) => carrierFor(countryOf(event)) !== undefined,
            target: 'scheduled',
            actions: [
              assign(({ context, event }) => {
                const carrier = carrierFor(countryOf(event))!;
                return {
                  address: { ...event.address, country: countryOf(event) },
                  lines: event.lines,
                  carrier: carrier.name,
                  trackingId: trackingIdFor(carrier, context.orderId),
                };
              }),
              answer<Ctx, Cmd<'schedule'>>(({ context, event }) => scheduled(context, event)),
            ],
          },
          {
            target: 'rejected',
            actions: [
              assign(({ event }) => ({ address: event.address, lines: event.lines, reason: noCarrierReason(countryOf(event)) })),
              answer<Ctx, Cmd<'schedule'>>(({ context, event }) => rejected(context, event)),
            ],
          },
        ],
        // Cancelled before it was scheduled: nothing to undo, and a late schedule will be refused.
        cancel: { target: 'cancelled', actions: answer<Ctx, Cmd<'cancel'>>(({ context, event }) => cancelled(context, event)) },
      },
    },
    scheduled: {
      entry: publish(({ context }: { context: Ctx }) => ({
        type: 'ShipmentScheduled',
        data: { orderId: context.orderId, trackingId: context.trackingId, carrier: context.carrier, country: context.address?.country },
      })),
      on: {
        schedule: { actions: answer<Ctx, Cmd<'schedule'>>(({ context, event }) => scheduled(context, event)) },
        cancel: { target: 'cancelled', actions: answer<Ctx, Cmd<'cancel'>>(({ context, event }) => cancelled(context, event)) },
      },
    },
    rejected: {
      entry: publish(({ context }: { context: Ctx }) => ({ type: 'ShipmentRejected', data: { orderId: context.orderId, reason: context.reason } })),
      on: {
        schedule: { actions: answer<Ctx, Cmd<'schedule'>>(({ context, event }) => rejected(context, event)) },
        // Nothing was booked: cancelling is already done.
        cancel: { actions: answer<Ctx, Cmd<'cancel'>>(({ context, event }) => cancelled(context, event)) },
      },
    },
    cancelled: {
      entry: publish(({ context }: { context: Ctx }) => ({ type: 'ShipmentCancelled', data: { orderId: context.orderId, trackingId: context.trackingId } })),
      on: {
        schedule: {
          actions: answer<Ctx, Cmd<'schedule'>>(({ context, event }) =>
            rejected(context, event, `the shipment of order ${context.orderId} was cancelled; schedule under a new order id`),
          ),
        },
        cancel: { actions: answer<Ctx, Cmd<'cancel'>>(({ context, event }) => cancelled(context, event)) },
      },
    },
  },
});

export const shipment = defineActor('shipment', shipmentMachine, { history: { keep: 20 } });
