/**
 * The chaos run's checks on a small world built by hand: one order confirmed, one compensated, the ledger, stock,
 * mailboxes and events all consistent — no violation; then one thing broken at a time (a second charge, stock left
 * held for a compensated order, a message pending, an order created twice, a notice sent twice or not at all, a saga
 * still running, a dead letter no injected fault explains), and the check that guards it must say so. A check that cannot fail would prove nothing.
 */
import { describe, expect, it } from 'bun:test';
import type { ActorView, DomainEvent } from '../../runtime/index.ts';
import type { CheckContext } from './check-context.ts';
import { checkMailboxes } from './check-mailboxes.ts';
import { checkMoney } from './check-money.ts';
import { checkNotices } from './check-notices.ts';
import { checkOnce } from './check-once.ts';
import { checkSagas } from './check-sagas.ts';
import { checkStock } from './check-stock.ts';
import type { FinalState } from './final-state.ts';
import type { PlacedOrder } from './load.ts';
import type { Notice } from '../../services/notifications/protocol.ts';

const view = <C>(address: string, state: string, context: C): ActorView<C> => ({ address, state, context, version: 1, machineVersion: 1, status: 'active' });
const event = (service: string, aggregate: string, type: string, extra: Record<string, unknown> = {}): DomainEvent =>
  ({ id: `${aggregate}/${type}/${Math.random()}`, type, aggregate, at: 1, cause: `c-${Math.random()}`, position: '0:1-0', ...extra }) as DomainEvent;

const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };
const notice = (orderId: string, kind: Notice['kind']): Notice => ({ orderId, kind, to: ada, subject: '', text: '', eventId: `e-${Math.random()}`, sentAt: 1 });

/** Order A (2 × BOX-S at 500) confirmed and shipped; order B (SCALE-5KG × 100) compensated for want of stock. */
function world(): CheckContext {
  const line = { sku: 'BOX-S', qty: 2, price: 500 };
  const saga = (id: string, status: string, state: string, log: { step: string; phase: string }[]) =>
    view(`order/fulfillment/${id}`, state, { id, status, log, reason: '', failedStep: status === 'compensated' ? 'reserveInventory' : '', parkedAt: '', data: {} } as any);
  const logA = [{ step: 'saga', phase: 'completed' }];
  const logB = [{ step: 'saga', phase: 'compensated' }];
  const state: FinalState = {
    orders: new Map([
      ['A', view('order/order/A', 'confirmed', { orderId: 'A', customer: ada, total: 1000, lines: [line] } as any)],
      ['B', view('order/order/B', 'cancelled', { orderId: 'B', customer: ada, total: 249_900, lines: [{ sku: 'SCALE-5KG', qty: 100, price: 2499 }] } as any)],
    ]),
    sagas: new Map([
      ['A', saga('A', 'completed', 'completed', logA)],
      ['B', saga('B', 'compensated', 'compensated', logB)],
    ]),
    reservations: new Map([
      ['A', view('inventory/reservation/A', 'committed', {} as any)],
      ['B', view('inventory/reservation/B', 'rejected', {} as any)],
    ]),
    skus: new Map([
      ['BOX-S', view('inventory/sku/BOX-S', 'listed', { sku: 'BOX-S', onHand: 498, reserved: {}, shipped: 2, seeded: 500, restocked: 0 } as any)],
      ['SCALE-5KG', view('inventory/sku/SCALE-5KG', 'listed', { sku: 'SCALE-5KG', onHand: 5, reserved: {}, shipped: 0, seeded: 5, restocked: 0 } as any)],
    ]),
    payments: new Map([['A', view('payment/payment/A', 'charged', { orderId: 'A', amount: 1000, chargeId: 'ch_A' } as any)]]),
    shipments: new Map([['A', view('shipping/shipment/A', 'scheduled', { orderId: 'A', trackingId: 'RM1' } as any)]]),
    missing: [],
    ledger: {
      charges: [{ chargeId: 'ch_A', orderId: 'A', amount: 1000, status: 'succeeded', idempotencyKey: 'charge:A', createdAt: 1 }],
      refunds: [],
      voids: [],
      totals: { charged: 1000, refunded: 0, charges: 1, refunds: 0 },
    },
    events: {
      order: [
        event('order', 'order/order/A', 'OrderCreated'),
        event('order', 'order/order/A', 'OrderConfirmed'),
        event('order', 'order/order/B', 'OrderCreated'),
        event('order', 'order/order/B', 'OrderCancelled'),
        event('order', 'order/fulfillment/A', 'SagaStep', { step: 'saga', phase: 'completed' }),
        event('order', 'order/fulfillment/B', 'SagaStep', { step: 'saga', phase: 'compensated' }),
      ],
      inventory: [
        event('inventory', 'inventory/sku/BOX-S', 'StockHeld', { data: { sku: 'BOX-S', orderId: 'A', qty: 2 } }),
        event('inventory', 'inventory/sku/BOX-S', 'StockCommitted', { data: { sku: 'BOX-S', orderId: 'A', qty: 2 } }),
      ],
      payment: [event('payment', 'payment/payment/A', 'PaymentCharged')],
      shipping: [event('shipping', 'shipping/shipment/A', 'ShipmentScheduled')],
    },
    notices: new Map([
      ['A', [notice('A', 'confirmation')]],
      ['B', [notice('B', 'cancellation')]],
    ]),
    mailboxes: [{ service: 'order', partition: 0, pending: 0, undelivered: 0, outbox: 0, timers: 0, effects: 0 }],
    deadLetters: [],
  };
  const placed = (orderId: string, kind: PlacedOrder['kind'], total: number): PlacedOrder => ({
    n: 1, key: orderId, orderId, kind, lines: [], country: 'GB', total, placedAt: 0, outcome: 'accepted', attempts: 1,
  });
  return {
    state,
    orders: [placed('A', 'normal', 1000), placed('B', 'short-stock', 249_900)],
    restocks: [],
    seeded: new Map([['BOX-S', 500], ['SCALE-5KG', 5]]),
    injector: { kills: [], pauses: [], redisRestarts: [], masterKills: [], rules: [], skipped: [] },
    replayed: [],
    violations: [],
    notes: [],
  };
}

const checkAll = (ctx: CheckContext) => {
  for (const check of [checkSagas, checkMoney, checkStock, checkMailboxes, checkOnce, checkNotices]) check(ctx);
  return ctx.violations.map((v) => v.check);
};

describe('chaos checks', () => {
  it('should find nothing wrong in a consistent world', () => {
    const ctx = world();
    expect(checkAll(ctx), ctx.violations.map((v) => v.message).join('\n')).toEqual([]);
  });

  it('should report a second charge of an order', () => {
    const ctx = world();
    ctx.state.ledger.charges.push({ chargeId: 'ch_A2', orderId: 'A', amount: 1000, status: 'succeeded', idempotencyKey: 'x', createdAt: 2 });
    ctx.state.ledger.totals = { charged: 2000, refunded: 0, charges: 2, refunds: 0 };
    expect(checkAll(ctx)).toContain('money');
    expect(ctx.violations.some((v) => v.message.includes('charged more than once'))).toBe(true);
  });

  it('should report stock still held for a compensated order', () => {
    const ctx = world();
    const sku = ctx.state.skus.get('BOX-S')!.context;
    sku.onHand -= 1;
    sku.reserved = { B: 1 };
    expect(checkAll(ctx)).toEqual(['stock']);
  });

  it('should report a message left pending in a consumer group', () => {
    const ctx = world();
    ctx.state.mailboxes[0]!.pending = 1;
    expect(checkAll(ctx)).toEqual(['mailboxes']);
  });

  it('should report an order created twice', () => {
    const ctx = world();
    ctx.state.events.order!.push(event('order', 'order/order/A', 'OrderCreated'));
    expect(checkAll(ctx)).toEqual(['exactly-once effects']);
  });

  it('should report a second notice, a missing one, one of the wrong kind and one for an order still pending', () => {
    const twice = world();
    twice.state.notices.get('A')!.push(notice('A', 'confirmation'));
    expect(checkAll(twice)).toEqual(['notices']);
    const missing = world();
    missing.state.notices.delete('B');
    expect(checkAll(missing)).toEqual(['notices']);
    const wrongKind = world();
    wrongKind.state.notices.set('A', [notice('A', 'cancellation')]);
    expect(checkAll(wrongKind)).toEqual(['notices']);
    const pending = world();
    pending.state.orders.set('C', view('order/order/C', 'pending', { orderId: 'C', customer: ada, total: 0, lines: [] } as any));
    pending.state.notices.set('C', [notice('C', 'confirmation')]);
    pending.state.sagas.set('C', pending.state.sagas.get('A')!);
    expect(checkAll(pending)).toContain('notices');
  });

  it('should report a saga that is still running', () => {
    const ctx = world();
    const saga = ctx.state.sagas.get('B')!;
    saga.state = 'undoCreateOrder.sending';
    saga.context.status = 'compensating';
    expect(checkAll(ctx)).toContain('sagas');
  });

  it('should accept a saga parked while the run kept its participant unreachable, and report one parked for no such reason', () => {
    const park = (ctx: CheckContext) => {
      // B got as far as a charge; its refund met an open breaker ten times, then it parked.
      const saga = ctx.state.sagas.get('B')!;
      saga.state = 'failedNeedsOperator';
      saga.context.status = 'parked';
      saga.context.parkedAt = 'undoChargePayment';
      const reason = 'refund failed: payment provider unavailable: circuit open, retry in 9 s';
      saga.context.log = [
        { at: 100_000, step: 'undoChargePayment', phase: 'compensating' },
        ...[1, 2, 3].map((attempt) => ({ at: 100_000 + attempt * 1_000, step: 'undoChargePayment', phase: 'retrying' as const, attempt, reason })),
        { at: 104_000, step: 'undoChargePayment', phase: 'parked', reason: `compensation failed 10 times: ${reason}` },
      ];
      ctx.state.orders.get('B')!.state = 'pending';
      ctx.state.notices.delete('B');
      ctx.state.events.order = ctx.state.events.order!.filter((e) => e.aggregate !== 'order/order/B' || e.type !== 'OrderCancelled');
      ctx.state.events.order = ctx.state.events.order.filter((e) => e.aggregate !== 'order/fulfillment/B');
      for (const l of saga.context.log) ctx.state.events.order.push(event('order', 'order/fulfillment/B', 'SagaStep', { step: l.step, phase: l.phase, attempt: (l as { attempt?: number }).attempt }));
    };
    const explained = world();
    park(explained);
    explained.injector.rules.push({ at: 70_000, id: 'r-1', rule: { kind: 'error', target: { service: 'payment', dependency: 'provider' }, probability: 0.3, durationMs: 10_000 } });
    expect(checkAll(explained), explained.violations.map((v) => v.message).join('\n')).toEqual([]);
    expect(explained.notes.some((n) => n.startsWith('parked: B') && n.includes('error on provider calls (r-1)'))).toBe(true);

    const unexplained = world();
    park(unexplained);
    expect(checkAll(unexplained)).toEqual(['sagas']);
  });

  it('should report a dead letter no injected fault explains, and accept one that names it', () => {
    const letter = { service: 'inventory', partition: 1, id: '1-0', actor: 'inventory/sku/BOX-S', event: 'sku.hold', messageId: 'm', deliveries: 5 };
    const ok = world();
    ok.state.deadLetters.push({ ...letter, error: 'failed 5 times: injected fault (chaos rule r-1)' });
    expect(checkAll(ok)).toEqual([]);
    const bad = world();
    bad.state.deadLetters.push({ ...letter, error: 'failed 5 times: TypeError: x is undefined' });
    expect(checkAll(bad)).toEqual(['mailboxes']);
  });
});
