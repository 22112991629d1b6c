/**
 * ELK, once for the panel: lays out a machine graph as a statechart drawing, cached per machine and options (a
 * machine's layout never changes while the panel is open; only which state is lit does).
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { MachineGraph } from '../api/types.ts';
import { drawing, elkInput, type Drawing, type ElkNode, type GlobalTransition, type LayoutOptions } from '../models/statechart.ts';

const elk = new ELK();
const cache = new Map<string, Promise<{ drawing: Drawing; global: GlobalTransition[] }>>();

export function layoutMachine(graph: MachineGraph, options: LayoutOptions = {}) {
  const key = `${graph.id}|${graph.states.length}|${graph.transitions.length}|${options.direction ?? 'DOWN'}|${options.maxDepth ?? 'all'}|${options.edgeLabels !== false}`;
  let found = cache.get(key);
  if (!found) {
    const { root, global, texts } = elkInput(graph, options);
    found = elk.layout(root as Parameters<typeof elk.layout>[0]).then((out) => ({ drawing: drawing(graph, out as unknown as ElkNode, texts), global }));
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}
