import { describe, expect, it } from 'bun:test';
import { setup } from 'xstate';
import { circuitBreakerMachine } from '../../runtime/resilience/index.ts';
import { machineGraph } from '../../runtime/index.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';

describe('machineGraph', () => {
  it('should list nested states with parents and initials, and transitions with events, guards and delays', () => {
    const m = setup({ guards: { isBig: () => true } }).createMachine({
      id: 'door',
      initial: 'closed',
      states: {
        closed: { on: { open: { target: 'opened', guard: 'isBig' } } },
        opened: { initial: 'swinging', states: { swinging: { after: { 500: 'still' } }, still: {} }, on: { close: 'closed' } },
      },
    });
    const g = machineGraph(m);
    expect(g.states.map((s) => [s.id, s.parent, s.type, s.initial])).toEqual([
      ['door', null, 'compound', 'door.closed'],
      ['door.closed', 'door', 'atomic', null],
      ['door.opened', 'door', 'compound', 'door.opened.swinging'],
      ['door.opened.swinging', 'door.opened', 'atomic', null],
      ['door.opened.still', 'door.opened', 'atomic', null],
    ]);
    expect(g.transitions).toEqual([
      { source: 'door.closed', targets: ['door.opened'], event: 'open', guard: 'isBig' },
      { source: 'door.opened', targets: ['door.closed'], event: 'close' },
      { source: 'door.opened.swinging', targets: ['door.opened.still'], event: 'after 500 ms', delayMs: 500 },
    ]);
  });

  it('should draw the order saga and the circuit breaker from their definitions', () => {
    const saga = machineGraph(orderFulfillment.machine);
    expect(saga.states.filter((s) => s.parent === 'fulfillment').map((s) => s.key)).toContain('undoChargePayment');
    expect(saga.transitions.some((t) => t.source === 'fulfillment.chargePayment' && t.event === 'payment.failed')).toBe(true);
    const breaker = machineGraph(circuitBreakerMachine as never);
    expect(breaker.states.map((s) => s.key)).toEqual(['circuitBreaker', 'closed', 'open', 'halfOpen', 'forcedOpen', 'disabled']);
  });
});
