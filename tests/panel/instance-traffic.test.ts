import { describe, expect, it } from 'bun:test';
import { baselineOf, instanceRates, type InstanceSample } from '../../panel/src/lib/models/instance-traffic.ts';
import { topologyDiagram } from '../../panel/src/lib/models/topology-layout.ts';
import type { ProcessRow, Topology } from '../../panel/src/lib/api/types.ts';

type Instance = Topology['instances'][string][number];
const instance = (id: string, pid: number, requests: number, lastSeenMs: number): Instance => ({ id, address: `127.0.0.1:${pid}`, pid, requests, lastSeenMs });
const row = (name: string, pid: number, status = 'up'): ProcessRow =>
  ({ name, pid, status, restarts: 0, uptimeMs: 1, url: '', port: 1, paused: false, upSince: 0, updatedAt: 0, seq: 0 }) as ProcessRow;

describe('instanceRates', () => {
  it('should divide the requests served between two heartbeats by the time between them', () => {
    const before: InstanceSample = { at: 10_000, instances: { order: [instance('o1', 1, 100, 500), instance('o2', 2, 40, 0)] } };
    const after: InstanceSample = { at: 15_000, instances: { order: [instance('o1', 1, 140, 1_500), instance('o2', 2, 40, 0)] } };
    // o1: heartbeats at 9.5 s and 13.5 s → 40 requests in 4 s; o2 served none.
    expect(instanceRates(before, after)).toEqual({ o1: 10, o2: 0 });
  });

  it('should not guess a rate for a new instance, a restarted one, or one with no heartbeat in between', () => {
    const before: InstanceSample = { at: 1_000, instances: { order: [instance('o1', 1, 50, 0), instance('o3', 3, 9, 0)] } };
    const after: InstanceSample = { at: 2_000, instances: { order: [instance('o1', 1, 10, 0), instance('o2', 2, 5, 0), instance('o3', 3, 9, 1_000)] } };
    expect(instanceRates(before, after)).toEqual({ o1: null, o2: null, o3: null });
    expect(instanceRates(undefined, after)).toEqual({ o1: null, o2: null, o3: null });
  });
});

describe('baselineOf', () => {
  it('should measure from the newest sample at least a window old, else the oldest', () => {
    const at = (t: number): InstanceSample => ({ at: t, instances: {} });
    expect(baselineOf([at(0), at(4_000), at(6_000)], 9_000, 5_000)?.at).toBe(4_000);
    expect(baselineOf([at(7_000), at(8_000)], 9_000, 5_000)?.at).toBe(7_000);
    expect(baselineOf([], 9_000)).toBeUndefined();
  });
});

describe('topologyDiagram with replicas', () => {
  const rates = { windowS: 10, services: [{ service: 'order', processedPerSec: 4 }], links: [{ from: 'gateway', to: 'order', perSec: 3 }] };

  it('should draw one stacked box per service with a line per instance and the traffic to each', () => {
    const { nodes, links, height } = topologyDiagram(
      {
        processes: [row('gateway', 10), row('order', 1), row('order#2', 2, 'restarting'), row('shipping', 4), row('shipping#2', 5)],
        rates,
        instances: { order: [instance('o1', 1, 0, 0), instance('o2', 2, 0, 0)] },
      },
      { o1: 6.5, o2: null },
    );
    expect(nodes.map((n) => n.label)).toEqual(['gateway', 'order ×2', 'shipping ×2']);
    const order = nodes.find((n) => n.name === 'order')!;
    // The box shows the worst of its replicas; each line its own status and rate.
    expect(order.process?.status).toBe('restarting');
    expect(order.instances.map((i) => [i.label, i.process.status, i.perSec])).toEqual([
      ['#1', 'up', 6.5],
      ['#2', 'restarting', null],
    ]);
    expect(links.find((l) => l.kind === 'messages')).toMatchObject({ from: 'gateway', to: 'order' });
    // shipping sits at the bottom: the diagram grows to keep its instance lines inside.
    expect(height).toBeGreaterThan(300);
    const shipping = nodes.find((n) => n.name === 'shipping')!;
    expect(Math.max(...shipping.instances.map((i) => i.y))).toBeLessThan(height);
  });

  it('should draw a single-instance system exactly as before: no instance lines, the usual size', () => {
    const { nodes, height } = topologyDiagram({ processes: [row('gateway', 10), row('order', 1), row('shipping', 4)], rates, instances: { order: [instance('o1', 1, 0, 0)] } }, { o1: 3 });
    expect(nodes.map((n) => [n.label, n.instances.length])).toEqual([
      ['gateway', 0],
      ['order', 0],
      ['shipping', 0],
    ]);
    expect(height).toBe(300);
  });
});
