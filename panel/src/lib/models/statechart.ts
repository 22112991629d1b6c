/**
 * A machine graph as a statechart to draw: `elkInput` turns the runtime's MachineGraph into an ELK graph (compound
 * states as containers, transitions as labelled edges, sizes from the label lengths), and `drawing` turns ELK's
 * answer into absolute boxes and polylines for an SVG. Nothing is placed by hand: ELK lays out whatever machine runs.
 */
import type { MachineGraph } from '../api/types.ts';

export type ElkLabel = { id?: string; text: string; width: number; height: number; x?: number; y?: number };
export type ElkPoint = { x: number; y: number };
export type ElkEdge = {
  id: string;
  sources: string[];
  targets: string[];
  labels?: ElkLabel[];
  sections?: { startPoint: ElkPoint; endPoint: ElkPoint; bendPoints?: ElkPoint[] }[];
  container?: string;
};
export type ElkNode = {
  id: string;
  width?: number;
  height?: number;
  x?: number;
  y?: number;
  labels?: ElkLabel[];
  layoutOptions?: Record<string, string>;
  children?: ElkNode[];
  edges?: ElkEdge[];
};

export const CHAR_W = 6.6;
const LABEL_H = 14;
const NODE_H = 30;

/** A transition that leaves the whole machine's root (an operator command valid in every state). */
export type GlobalTransition = { event: string; target: string };

/** The top-level ELK graph and what could not be an edge (transitions from the root itself). */
export type LayoutOptions = {
  direction?: 'DOWN' | 'RIGHT';
  /** Fold states deeper than this below the top level into their ancestor (see `visibleStateOf`). */
  maxDepth?: number;
  /** Place edge labels in the layout (default true). Without, a big machine stays compact; labels become tooltips. */
  edgeLabels?: boolean;
};

export function elkInput(graph: MachineGraph, options: LayoutOptions = {}): { root: ElkNode; global: GlobalTransition[]; texts: Map<string, string> } {
  const direction = options.direction ?? 'DOWN';
  const shown = visibleStateOf(graph, options.maxDepth ?? Number.POSITIVE_INFINITY);
  const byParent = new Map<string | null, MachineGraph['states']>();
  for (const s of graph.states) if (shown.get(s.id) === s.id) byParent.set(s.parent, [...(byParent.get(s.parent) ?? []), s]);
  const keyOf = new Map(graph.states.map((s) => [s.id, s.key]));

  const nodeOf = (id: string): ElkNode => {
    const state = graph.states.find((s) => s.id === id)!;
    const kids = byParent.get(id) ?? [];
    const label = state.key;
    const width = Math.max(60, label.length * CHAR_W + 24);
    if (kids.length === 0) return { id, width, height: NODE_H, labels: [{ text: label, width: label.length * CHAR_W, height: LABEL_H }] };
    return {
      id,
      labels: [{ text: label, width: label.length * CHAR_W, height: LABEL_H }],
      layoutOptions: { 'elk.padding': '[top=26,left=10,bottom=10,right=10]', 'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': `(${width}, 40)` },
      children: kids.map((k) => nodeOf(k.id)),
    };
  };

  const global: GlobalTransition[] = [];
  const merged = new Map<string, { source: string; target: string; events: string[] }>();
  for (const t of graph.transitions) {
    for (const rawTarget of t.targets) {
      if (t.source === graph.id) {
        global.push({ event: t.event, target: keyOf.get(rawTarget) ?? rawTarget });
        continue;
      }
      const source = shown.get(t.source);
      const target = shown.get(rawTarget);
      if (!source || !target || target === source) continue;
      const k = `${source}->${target}`;
      const m = merged.get(k) ?? { source, target, events: [] };
      const word = t.guard && t.guard !== 'guarded' ? `${t.event} [${t.guard}]` : t.event;
      if (!m.events.includes(word)) m.events.push(word);
      merged.set(k, m);
    }
  }
  const texts = new Map<string, string>();
  const edges: ElkEdge[] = [...merged.values()].map((m, i) => {
    const id = `e${i}`;
    const text = m.events.length > 2 ? `${m.events.slice(0, 2).join(', ')} +${m.events.length - 2}` : m.events.join(', ');
    texts.set(id, m.events.join(', '));
    const edge: ElkEdge = { id, sources: [m.source], targets: [m.target] };
    if (options.edgeLabels !== false) edge.labels = [{ text, width: text.length * (CHAR_W - 0.8), height: LABEL_H }];
    return edge;
  });

  const top = byParent.get(graph.id) ?? [];
  const root: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.nodeNode': '22',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.inline': 'false',
      'elk.layered.edgeLabels.sideSelection': 'ALWAYS_DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: top.map((s) => nodeOf(s.id)),
    edges,
  };
  return { root, global, texts };
}

/**
 * Which drawn state stands for each state when states deeper than `maxDepth` (below the machine's top level) are
 * folded into their ancestor — a saga step's `sending`/`waiting` retry loop, for instance.
 */
export function visibleStateOf(graph: MachineGraph, maxDepth: number): Map<string, string> {
  const parentOf = new Map(graph.states.map((s) => [s.id, s.parent]));
  const depthOf = (id: string): number => {
    let d = -1;
    for (let p: string | null | undefined = id; p && p !== graph.id; p = parentOf.get(p)) d++;
    return d;
  };
  const out = new Map<string, string>();
  for (const s of graph.states) {
    if (s.id === graph.id) continue;
    let id = s.id;
    while (depthOf(id) > maxDepth) id = parentOf.get(id)!;
    out.set(s.id, id);
  }
  return out;
}

export type DrawnNode = { id: string; key: string; x: number; y: number; width: number; height: number; compound: boolean; final: boolean; initial: boolean; depth: number };
export type DrawnEdge = { id: string; source: string; target: string; points: ElkPoint[]; label?: { text: string; x: number; y: number }; title: string };
export type Drawing = { width: number; height: number; nodes: DrawnNode[]; edges: DrawnEdge[] };

/** ELK's answer as absolute boxes (parents before children) and edge polylines. */
export function drawing(graph: MachineGraph, laidOut: ElkNode, texts = new Map<string, string>()): Drawing {
  const info = new Map(graph.states.map((s) => [s.id, s]));
  const initials = new Set(graph.states.map((s) => s.initial).filter((x): x is string => !!x));
  const nodes: DrawnNode[] = [];
  const origin = new Map<string, ElkPoint>([['__root', { x: 0, y: 0 }]]);
  const walk = (node: ElkNode, ox: number, oy: number, depth: number) => {
    for (const child of node.children ?? []) {
      const x = ox + (child.x ?? 0);
      const y = oy + (child.y ?? 0);
      origin.set(child.id, { x, y });
      const s = info.get(child.id);
      nodes.push({
        id: child.id,
        key: s?.key ?? child.id,
        x,
        y,
        width: child.width ?? 0,
        height: child.height ?? 0,
        compound: (child.children?.length ?? 0) > 0,
        final: s?.type === 'final',
        initial: initials.has(child.id),
        depth,
      });
      walk(child, x, y, depth + 1);
    }
  };
  walk(laidOut, 0, 0, 0);
  const edges: DrawnEdge[] = [];
  const collect = (node: ElkNode) => {
    for (const e of node.edges ?? []) {
      // ELK gives edge coordinates relative to the edge's container (the lowest common ancestor it picked).
      const o = origin.get(e.container ?? node.id) ?? { x: 0, y: 0 };
      const section = e.sections?.[0];
      if (!section) continue;
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({ x: p.x + o.x, y: p.y + o.y }));
      const l = e.labels?.[0];
      edges.push({
        id: e.id,
        source: e.sources[0]!,
        target: e.targets[0]!,
        points,
        label: l ? { text: l.text, x: (l.x ?? 0) + o.x, y: (l.y ?? 0) + o.y } : undefined,
        title: texts.get(e.id) ?? l?.text ?? '',
      });
    }
    for (const c of node.children ?? []) collect(c);
  };
  collect(laidOut);
  return { width: laidOut.width ?? 0, height: laidOut.height ?? 0, nodes, edges };
}

/**
 * The graph ids lit for an actor's state value (`chargePayment.sending`): the state and each of its ancestors.
 *
 * @example
 * activeIds(graph, 'chargePayment.sending'); // Set { 'fulfillment.chargePayment', 'fulfillment.chargePayment.sending' }
 */
export function activeIds(graph: MachineGraph, state: string | null | undefined): Set<string> {
  const out = new Set<string>();
  if (!state) return out;
  const ids = new Set(graph.states.map((s) => s.id));
  const parts = state.split('.');
  for (let i = 1; i <= parts.length; i++) {
    const id = `${graph.id}.${parts.slice(0, i).join('.')}`;
    if (ids.has(id)) out.add(id);
  }
  return out;
}
