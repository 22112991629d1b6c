import { describe, expect, it } from 'bun:test';
import { machineGraph } from '../../runtime/index.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import type { SagaLogEntry } from '../../panel/src/lib/api/types.ts';
import { barOf, completingEvents, sagaTimeline } from '../../panel/src/lib/models/saga-timeline.ts';

const T = 1_000_000;
const log = (entries: [number, string, SagaLogEntry['phase'], Partial<SagaLogEntry>?][]): SagaLogEntry[] =>
  entries.map(([at, step, phase, extra]) => ({ at: T + at, step, phase, ...extra }));

describe('sagaTimeline', () => {
  it('should make one row per step and per compensation, with outcomes, durations and reasons', () => {
    const t = sagaTimeline(
      T,
      log([
        [0, 'createOrder', 'started', { attempt: 1 }],
        [5, 'createOrder', 'succeeded', { attempt: 1, durationMs: 5 }],
        [5, 'reserveInventory', 'started', { attempt: 1 }],
        [20, 'reserveInventory', 'succeeded', { attempt: 1, durationMs: 15 }],
        [20, 'chargePayment', 'started', { attempt: 1 }],
        [300, 'chargePayment', 'retrying', { attempt: 1, reason: 'no reply within 250 ms' }],
        [500, 'chargePayment', 'failed', { attempt: 2, reason: 'provider breaker is open', durationMs: 480 }],
        [500, 'undoReserveInventory', 'compensating'],
        [530, 'undoReserveInventory', 'compensated', { attempt: 1, durationMs: 30 }],
        [530, 'undoCreateOrder', 'compensating'],
        [540, 'undoCreateOrder', 'compensated', { attempt: 1, durationMs: 10 }],
        [540, 'saga', 'compensated', { durationMs: 540, reason: 'provider breaker is open' }],
      ]),
      T + 10_000,
    );
    expect(t.rows.map((r) => [r.step, r.kind, r.outcome, r.start, r.end, r.attempts])).toEqual([
      ['createOrder', 'step', 'succeeded', 0, 5, 1],
      ['reserveInventory', 'step', 'succeeded', 5, 20, 1],
      ['chargePayment', 'step', 'failed', 20, 500, 2],
      ['undoReserveInventory', 'compensation', 'compensated', 500, 530, 1],
      ['undoCreateOrder', 'compensation', 'compensated', 530, 540, 1],
    ]);
    const charge = t.rows[2]!;
    expect(charge.reason).toBe('provider breaker is open');
    expect(charge.failedAt).toBe(T + 500);
    expect(charge.retries).toEqual([{ at: 300, reason: 'no reply within 250 ms' }]);
    expect(t.end).toEqual({ phase: 'compensated', at: T + 540, reason: 'provider breaker is open' });
    expect(t.totalMs).toBe(540);
  });

  it('should keep a running step open until now, and draw its bar to now', () => {
    const t = sagaTimeline(T, log([[0, 'createOrder', 'started', { attempt: 1 }]]), T + 2_000);
    expect(t.rows[0]).toMatchObject({ outcome: 'running', end: null });
    expect(t.totalMs).toBe(2_000);
    expect(barOf(t.rows[0]!, t, T + 2_000)).toEqual({ left: 0, width: 100 });
  });

  it('should reopen a compensation that an operator retried after it parked', () => {
    const t = sagaTimeline(
      T,
      log([
        [0, 'undoChargePayment', 'compensating'],
        [100, 'undoChargePayment', 'parked', { reason: 'compensation failed 10 times' }],
        [5_000, 'undoChargePayment', 'compensating'],
      ]),
      T + 6_000,
    );
    expect(t.rows.map((r) => r.outcome)).toEqual(['parked', 'compensating']);
  });

  it("should name each compensation by the reply that completes it in the saga's real machine", () => {
    const completes = completingEvents(machineGraph(orderFulfillment.machine));
    expect(completes.get('undoChargePayment')).toContain('payment.refunded');
    expect(completes.get('undoReserveInventory')).toEqual(['inventory.released']);
    expect(completes.get('chargePayment')?.[0]).toBe('payment.charged');
    const t = sagaTimeline(T, log([[0, 'undoReserveInventory', 'compensating']]), T + 1, completes);
    expect(t.rows[0]!.completesWith).toBe('inventory.released');
  });
});
