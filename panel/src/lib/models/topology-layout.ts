/**
 * The Overview's topology diagram: every process at a fixed place by its role (clients' entry on the left, the
 * services in the middle, the external provider on the right, infrastructure below), the links between services
 * with their message rates, the event-log subscriptions (order → notifications), and the HTTP calls the gateway and
 * payment make. Unknown processes line up at the bottom. Replicas (`order#2` …) share their service's box, drawn
 * stacked as `order ×2`, with one line per instance under it: its status and the requests per second it serves.
 */
import type { ProcessRow, Topology } from '../api/types.ts';

/** One replica of a service: its process, and the requests per second the registry's counters show it serving. */
export type DiagramInstance = { label: string; process: ProcessRow; perSec: number | null; y: number };
/** `process` is the service's first replica but with the group's status (the worst one); `instances` only with replicas. */
export type DiagramNode = { name: string; label: string; x: number; y: number; process?: ProcessRow; processedPerSec?: number; instances: DiagramInstance[] };
export type DiagramLink = { id: string; from: string; to: string; kind: 'messages' | 'http' | 'events'; label: string; perSec: number; path: string; labelAt: { x: number; y: number } };

export const DIAGRAM = { width: 760, height: 300, nodeW: 120, nodeH: 44, instanceLine: 12 } as const;

/** Which status a group of replicas shows: the worst among them. */
const WORST_FIRST = ['down', 'restarting', 'starting', 'stopped', 'up'];

const PLACES: Record<string, [number, number]> = {
  gateway: [90, 120],
  order: [290, 120],
  inventory: [500, 40],
  payment: [500, 150],
  shipping: [500, 255],
  provider: [680, 150],
  notifications: [290, 30],
  control: [90, 255],
  panel: [290, 255],
  redis: [90, 30],
};

/**
 * Subscriptions to a service's event log (choreography: the publisher does not know its subscriber): publisher →
 * subscriber, labelled with what the subscriber processes per second, one message per event it hands on.
 */
const EVENT_LINKS: [string, string][] = [['order', 'notifications']];

const HTTP_LINKS: [string, string][] = [
  ['gateway', 'order'],
  ['payment', 'provider'],
];

/**
 * @example
 * const { nodes, links } = topologyDiagram(topology);
 * links.find((l) => l.from === 'order' && l.to === 'payment')?.label; // '12.5 msg/s'
 */
export function topologyDiagram(
  t: Pick<Topology, 'processes' | 'rates'> & Partial<Pick<Topology, 'instances'>>,
  traffic: Record<string, number | null> = {},
): { nodes: DiagramNode[]; links: DiagramLink[]; height: number } {
  const nodes: DiagramNode[] = [];
  let extra = 0;
  let height: number = DIAGRAM.height;
  const rateOf = new Map(t.rates.services.map((s) => [s.service, s.processedPerSec]));
  const rateOfPid = new Map(Object.values(t.instances ?? {}).flatMap((list) => list.map((i) => [i.pid, traffic[i.id] ?? null] as const)));
  for (const [name, replicas] of groupReplicas(t.processes)) {
    const place = PLACES[name] ?? [290 + 140 * ++extra, 255];
    const [x, y] = place;
    const first = replicas[0]!;
    const status = replicas.map((p) => p.status).sort((a, b) => rank(a) - rank(b))[0]!;
    const instances =
      replicas.length < 2
        ? []
        : replicas.map((p, k) => ({ label: p.name === name ? '#1' : p.name.slice(name.length), process: p, perSec: p.pid === null ? null : (rateOfPid.get(p.pid) ?? null), y: y + DIAGRAM.nodeH / 2 + DIAGRAM.instanceLine * (k + 1) }));
    for (const i of instances) height = Math.max(height, i.y + 6);
    const label = replicas.length < 2 ? name : `${name} ×${replicas.length}`;
    nodes.push({ name, label, x, y, process: { ...first, status, restarts: replicas.reduce((n, p) => n + p.restarts, 0) }, processedPerSec: rateOf.get(name), instances });
  }
  const at = new Map(nodes.map((n) => [n.name, n]));
  const links: DiagramLink[] = [];
  // Message links: one per unordered pair, both directions' rates summed into the label.
  const pairs = new Map<string, { from: string; to: string; forward: number; back: number }>();
  for (const l of t.rates.links) {
    if (!at.has(l.from) || !at.has(l.to) || l.from === l.to) continue;
    const [a, b] = [l.from, l.to].sort() as [string, string];
    const key = `${a}|${b}`;
    const p = pairs.get(key) ?? { from: l.from, to: l.to, forward: 0, back: 0 };
    if (l.from === p.from) p.forward += l.perSec;
    else p.back += l.perSec;
    pairs.set(key, p);
  }
  for (const [key, p] of pairs) {
    const perSec = p.forward + p.back;
    links.push({ id: `m:${key}`, from: p.from, to: p.to, kind: 'messages', perSec, label: `${fmt(perSec)} msg/s`, ...geometry(at.get(p.from)!, at.get(p.to)!, 0) });
  }
  for (const [from, to] of EVENT_LINKS) {
    if (!at.has(from) || !at.has(to)) continue;
    const perSec = rateOf.get(to) ?? 0;
    links.push({ id: `e:${from}|${to}`, from, to, kind: 'events', perSec, label: `events ${fmt(perSec)}/s`, ...geometry(at.get(from)!, at.get(to)!, 0) });
  }
  for (const [from, to] of HTTP_LINKS) {
    if (!at.has(from) || !at.has(to) || pairs.has([from, to].sort().join('|'))) continue;
    links.push({ id: `h:${from}|${to}`, from, to, kind: 'http', perSec: 0, label: 'HTTP', ...geometry(at.get(from)!, at.get(to)!, 0) });
  }
  return { nodes, links, height };
}

/** Processes by service: `order`, `order#2` … together, in the supervisor's order, the first replica first. */
function groupReplicas(processes: readonly ProcessRow[]): Map<string, ProcessRow[]> {
  const groups = new Map<string, ProcessRow[]>();
  for (const p of processes) {
    const name = p.name.replace(/#\d+$/, '');
    const group = groups.get(name) ?? [];
    group.push(p);
    groups.set(name, group);
  }
  for (const group of groups.values()) group.sort((a, b) => replicaNumber(a.name) - replicaNumber(b.name));
  return groups;
}

const replicaNumber = (name: string) => Number(/#(\d+)$/.exec(name)?.[1] ?? 1);
const rank = (status: string) => {
  const at = WORST_FIRST.indexOf(status);
  return at === -1 ? WORST_FIRST.length : at;
};

function fmt(n: number): string {
  return String(Number(n.toFixed(n >= 10 ? 0 : 1)));
}

/** A straight line between two boxes' edges, and the middle for its label. */
function geometry(a: DiagramNode, b: DiagramNode, bend: number): { path: string; labelAt: { x: number; y: number } } {
  const clip = (from: DiagramNode, to: DiagramNode) => {
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const sx = dx === 0 ? Number.POSITIVE_INFINITY : DIAGRAM.nodeW / 2 / Math.abs(dx);
    const sy = dy === 0 ? Number.POSITIVE_INFINITY : DIAGRAM.nodeH / 2 / Math.abs(dy);
    const s = Math.min(sx, sy);
    return { x: from.x + dx * s, y: from.y + dy * s };
  };
  const p1 = clip(a, b);
  const p2 = clip(b, a);
  const mx = (p1.x + p2.x) / 2;
  const my = (p1.y + p2.y) / 2 + bend;
  return { path: `M${r(p1.x)},${r(p1.y)} L${r(p2.x)},${r(p2.y)}`, labelAt: { x: r(mx), y: r(my) } };
}

const r = (n: number) => Math.round(n * 10) / 10;
