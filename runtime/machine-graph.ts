/**
 * A machine definition as a plain graph — states (nested, with their kind) and transitions (event, guard, delay,
 * targets) — the shape the panel lays out and draws as a statechart. Derived from XState's own definition, so the
 * picture is always the machine that runs.
 */
import type { AnyStateMachine } from 'xstate';

export type GraphState = {
  /** Full id, e.g. `fulfillment.chargePayment.sending`. */
  id: string;
  key: string;
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial: string | null;
};

export type GraphTransition = {
  source: string;
  targets: string[];
  /** The event name; delayed transitions read `after 5000 ms`, eventless ones `always`. */
  event: string;
  guard?: string;
  delayMs?: number;
};

export type MachineGraph = { id: string; states: GraphState[]; transitions: GraphTransition[] };

type Def = {
  id: string;
  key: string;
  type: GraphState['type'];
  initial?: { target: unknown[] };
  states: Record<string, Def>;
  transitions: { target?: unknown[]; eventType: string; guard?: unknown; delay?: number | string }[];
  always?: { target?: unknown[]; guard?: unknown }[];
};

const idOf = (target: unknown): string => {
  const raw = typeof target === 'string' ? target : String((target as { id?: string })?.id ?? target);
  return raw.startsWith('#') ? raw.slice(1) : raw;
};
const guardName = (guard: unknown): string | undefined => {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard && 'type' in guard) return String((guard as { type: unknown }).type);
  if (typeof guard === 'function' && guard.name && guard.name !== 'guard') return guard.name;
  return 'guarded';
};

/**
 * @example
 * const graph = machineGraph(orderFulfillment.machine);
 * graph.states.map((s) => s.id); // ['fulfillment', 'fulfillment.idle', 'fulfillment.createOrder', …]
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = [];
  const walk = (def: Def, parent: string | null) => {
    const initial = def.initial?.target?.[0];
    states.push({ id: def.id, key: def.key, parent, type: def.type, initial: initial ? idOf(initial) : null });
    for (const t of def.transitions ?? []) {
      const delay = typeof t.delay === 'number' ? t.delay : undefined;
      const event = delay !== undefined ? `after ${delay} ms` : t.eventType.startsWith('xstate.after.') ? 'after (delay)' : t.eventType;
      transitions.push({ source: def.id, targets: (t.target ?? []).map(idOf), event, ...(guardName(t.guard) ? { guard: guardName(t.guard) } : {}), ...(delay !== undefined ? { delayMs: delay } : {}) });
    }
    for (const t of def.always ?? []) {
      transitions.push({ source: def.id, targets: (t.target ?? []).map(idOf), event: 'always', ...(guardName(t.guard) ? { guard: guardName(t.guard) } : {}) });
    }
    for (const child of Object.values(def.states ?? {})) walk(child, def.id);
  };
  walk((machine as unknown as { definition: Def }).definition, null);
  return { id: machine.id, states, transitions };
}
