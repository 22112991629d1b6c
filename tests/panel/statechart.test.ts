import { describe, expect, it } from 'bun:test';
import ELK from 'elkjs/lib/elk.bundled.js';
import { circuitBreakerMachine } from '../../runtime/resilience/index.ts';
import { machineGraph } from '../../runtime/index.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { activeIds, drawing, elkInput, visibleStateOf, type ElkNode } from '../../panel/src/lib/models/statechart.ts';

const breaker = machineGraph(circuitBreakerMachine);
const saga = machineGraph(orderFulfillment.machine);

describe('statechart layout input', () => {
  it("should turn the breaker's machine into nodes and labelled edges, with root-level commands kept aside", () => {
    const { root, global } = elkInput(breaker);
    expect(root.children!.map((c) => c.id).sort()).toEqual(['circuitBreaker.closed', 'circuitBreaker.disabled', 'circuitBreaker.forcedOpen', 'circuitBreaker.halfOpen', 'circuitBreaker.open']);
    const closedToOpen = root.edges!.find((e) => e.sources[0] === 'circuitBreaker.closed' && e.targets[0] === 'circuitBreaker.open');
    expect(closedToOpen?.labels?.[0]?.text).toBe('window.exceeded [windowOverThreshold]');
    // A shared breaker follows its shared record into any state; operators move it from any state too.
    expect(global.map((g) => g.event)).toEqual([...Array(5).fill('shared.changed'), 'operator.forceOpen', 'operator.disable', 'operator.reset']);
    expect(global.filter((g) => g.event === 'shared.changed').map((g) => g.target.split('.').pop()).sort()).toEqual(['closed', 'disabled', 'forcedOpen', 'halfOpen', 'open']);
  });

  it("should fold a saga step's retry loop into the step, keeping one edge per pair of drawn states", () => {
    const shown = visibleStateOf(saga, 0);
    expect(shown.get('fulfillment.chargePayment.sending')).toBe('fulfillment.chargePayment');
    const { root } = elkInput(saga, { maxDepth: 0, edgeLabels: false });
    expect(root.children!.every((c) => !c.children)).toBe(true);
    const pairs = root.edges!.map((e) => `${e.sources[0]}>${e.targets[0]}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs).toContain('fulfillment.chargePayment>fulfillment.undoReserveInventory');
    expect(root.edges!.every((e) => !e.labels)).toBe(true);
  });

  it('should light the state and its ancestors for a state value', () => {
    expect([...activeIds(saga, 'chargePayment.sending')]).toEqual(['fulfillment.chargePayment', 'fulfillment.chargePayment.sending']);
    expect([...activeIds(breaker, 'halfOpen')]).toEqual(['circuitBreaker.halfOpen']);
    expect(activeIds(breaker, 'nonsense').size).toBe(0);
  });

  it('should place every state in absolute coordinates inside its parent, with a polyline per edge (real ELK)', async () => {
    const { root, texts } = elkInput(saga);
    const laid = (await new ELK().layout(root as never)) as unknown as ElkNode;
    const d = drawing(saga, laid, texts);
    expect(d.nodes.length).toBe(saga.states.length - 1);
    const byId = new Map(d.nodes.map((n) => [n.id, n]));
    const parent = byId.get('fulfillment.chargePayment')!;
    const child = byId.get('fulfillment.chargePayment.sending')!;
    expect(parent.compound).toBe(true);
    expect(child.x).toBeGreaterThanOrEqual(parent.x);
    expect(child.y).toBeGreaterThanOrEqual(parent.y);
    expect(child.x + child.width).toBeLessThanOrEqual(parent.x + parent.width + 0.01);
    expect(d.edges.length).toBe(root.edges!.length);
    for (const e of d.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      for (const p of e.points) {
        expect(p.x).toBeGreaterThanOrEqual(0);
        expect(p.x).toBeLessThanOrEqual(d.width + 0.01);
      }
    }
  }, 20_000);
});
