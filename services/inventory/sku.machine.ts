/**
 * The `sku` actor (`inventory/sku/<SKU>`): one product's stock. It is `unlisted` until the catalogue seeds it, then
 * `listed` for good. It holds units per order (at most once per order), gives them back on release and counts them
 * as shipped on commit, so onHand + Σreserved + shipped always equals seeded + restocked and nothing goes negative.
 * One actor per SKU processes one message at a time, so concurrent holds for the last units cannot oversell.
 * Its price is fixed once listed — no message changes it — and the gateway's price book
 * (`services/gateway/price-book.ts`) relies on that: a price change would need a message here and an event the
 * book follows.
 */
import { assign, setup } from 'xstate';
import { defineActor, participant, publish, reply } from '../../runtime/index.ts';
import { shortReason, unknownSkuReason, type SkuContext, type SkuMessage, type SkuReply } from './protocol.ts';

const { answer } = participant<SkuReply>();

const isCount = (n: unknown, min: number): n is number => Number.isInteger(n) && (n as number) >= min;
const holds = (c: SkuContext, orderId: string) => Object.hasOwn(c.reserved, orderId);
const without = (reserved: Record<string, number>, orderId: string) => {
  const rest = { ...reserved };
  delete rest[orderId];
  return rest;
};

export const skuMachine = setup({
  types: {} as { context: SkuContext; events: SkuMessage; input: { id: string } },
}).createMachine({
  id: 'sku',
  context: ({ input }) => ({ sku: input.id, name: '', price: 0, onHand: 0, reserved: {}, shipped: 0, seeded: 0, restocked: 0 }),
  initial: 'unlisted',
  states: {
    unlisted: {
      on: {
        'sku.seed': {
          guard: ({ event }) => typeof event.name === 'string' && event.name.length > 0 && isCount(event.price, 0) && isCount(event.stock, 0),
          target: 'listed',
          actions: [
            assign(({ event }) => ({ name: event.name, price: event.price, onHand: event.stock, seeded: event.stock })),
            publish(({ context }: { context: SkuContext }) => ({
              type: 'SkuListed',
              data: { sku: context.sku, name: context.name, price: context.price, stock: context.seeded },
            })),
          ],
        },
        // A hold for a SKU nobody listed: short, with a reason the order's customer can read.
        'sku.hold': {
          actions: answer<SkuContext, SkuMessage & { type: 'sku.hold' }>(({ context, event }) => ({
            type: 'sku.short',
            sku: context.sku,
            orderId: event.orderId,
            requested: event.qty,
            available: 0,
            reason: unknownSkuReason(context.sku),
          })),
        },
      },
    },
    listed: {
      on: {
        // Seeding again changes nothing: a restarted service re-seeds its catalogue safely.
        'sku.seed': {},
        'sku.restock': {
          guard: ({ event }) => isCount(event.qty, 1),
          actions: [
            assign(({ context, event }) => ({ onHand: context.onHand + event.qty, restocked: context.restocked + event.qty })),
            publish(({ context, event }: { context: SkuContext; event: { qty: number } }) => ({
              type: 'StockRestocked',
              data: { sku: context.sku, qty: event.qty, onHand: context.onHand },
            })),
            reply(({ context }: { context: SkuContext }) => context),
          ],
        },
        'sku.hold': [
          {
            // Holding twice for one order holds once; the repeat is answered the same.
            guard: ({ context, event }) => holds(context, event.orderId),
            actions: answer<SkuContext, SkuMessage & { type: 'sku.hold' }>(({ context, event }) => ({
              type: 'sku.held',
              sku: context.sku,
              orderId: event.orderId,
              qty: context.reserved[event.orderId]!,
            })),
          },
          {
            guard: ({ context, event }) => isCount(event.qty, 1) && event.qty <= context.onHand,
            actions: [
              assign(({ context, event }) => ({
                onHand: context.onHand - event.qty,
                reserved: { ...context.reserved, [event.orderId]: event.qty },
              })),
              answer<SkuContext, SkuMessage & { type: 'sku.hold' }>(({ context, event }) => ({
                type: 'sku.held',
                sku: context.sku,
                orderId: event.orderId,
                qty: event.qty,
              })),
              publish(({ context, event }: { context: SkuContext; event: { orderId: string; qty: number } }) => ({
                type: 'StockHeld',
                data: { sku: context.sku, orderId: event.orderId, qty: event.qty, onHand: context.onHand },
              })),
            ],
          },
          {
            actions: [
              answer<SkuContext, SkuMessage & { type: 'sku.hold' }>(({ context, event }) => ({
                type: 'sku.short',
                sku: context.sku,
                orderId: event.orderId,
                requested: event.qty,
                available: context.onHand,
                reason: isCount(event.qty, 1)
                  ? shortReason(context.sku, event.qty, context.onHand)
                  : `invalid quantity ${String(event.qty)} of SKU ${context.sku}`,
              })),
              publish(({ context, event }: { context: SkuContext; event: { orderId: string; qty: number } }) => ({
                type: 'StockShort',
                data: { sku: context.sku, orderId: event.orderId, requested: event.qty, available: context.onHand },
              })),
            ],
          },
        ],
        // Release and commit act only on units this order holds, so repeating them changes nothing.
        'sku.release': {
          guard: ({ context, event }) => holds(context, event.orderId),
          actions: [
            publish(({ context, event }: { context: SkuContext; event: { orderId: string } }) => ({
              type: 'StockReleased',
              data: {
                sku: context.sku,
                orderId: event.orderId,
                qty: context.reserved[event.orderId]!,
                onHand: context.onHand + context.reserved[event.orderId]!,
              },
            })),
            assign(({ context, event }) => ({
              onHand: context.onHand + context.reserved[event.orderId]!,
              reserved: without(context.reserved, event.orderId),
            })),
          ],
        },
        'sku.commit': {
          guard: ({ context, event }) => holds(context, event.orderId),
          actions: [
            publish(({ context, event }: { context: SkuContext; event: { orderId: string } }) => ({
              type: 'StockCommitted',
              data: {
                sku: context.sku,
                orderId: event.orderId,
                qty: context.reserved[event.orderId]!,
                shipped: context.shipped + context.reserved[event.orderId]!,
              },
            })),
            assign(({ context, event }) => ({
              shipped: context.shipped + context.reserved[event.orderId]!,
              reserved: without(context.reserved, event.orderId),
            })),
          ],
        },
      },
    },
  },
});

export const sku = defineActor('sku', skuMachine, { history: { keep: 20 } });
