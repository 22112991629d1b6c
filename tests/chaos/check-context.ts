/**
 * What every check of a chaos run reads — the final state, the orders the customers placed, the restocks, what the
 * injector did — and what it writes: violations (a broken promise; any one fails the run) and notes (figures and
 * lists a person reads, such as the dead letters with their reasons). One small shared shape, so each check is a
 * plain function in a file of its own.
 */
import type { FinalState, SagaView } from './final-state.ts';
import type { InjectorReport } from './injector.ts';
import type { PlacedOrder, Restock } from './load.ts';
import type { Replayed } from './operator.ts';

export type Violation = { check: string; message: string };

export type CheckContext = {
  state: FinalState;
  orders: PlacedOrder[];
  restocks: Restock[];
  /** SKU → the stock it was listed with, read before the first order. */
  seeded: Map<string, number>;
  injector: InjectorReport;
  /** Dead letters of injected faults that the run replayed after healing, as an operator would. */
  replayed: Replayed[];
  violations: Violation[];
  notes: string[];
};

/** `completed`, `compensated`, `parked`, `compensating` or `running` (the saga's own status, `idle` as running). */
export function sagaStatus(saga: SagaView | undefined): string {
  if (!saga) return 'missing';
  const status = saga.context.status;
  return status === 'idle' ? 'running' : status;
}

/** Order ids of the sagas that ended confirmed (completed) and compensated; parked ones apart. */
export function outcomes(state: FinalState) {
  const confirmed = new Set<string>();
  const compensated = new Set<string>();
  const parked = new Set<string>();
  for (const [orderId, saga] of state.sagas) {
    const status = sagaStatus(saga);
    if (status === 'completed') confirmed.add(orderId);
    else if (status === 'compensated') compensated.add(orderId);
    else if (status === 'parked') parked.add(orderId);
  }
  return { confirmed, compensated, parked };
}

/** Lists at most `max` items, saying how many were left out. */
export function some<T>(items: readonly T[], show: (item: T) => string, max = 10): string {
  const shown = items.slice(0, max).map(show).join('; ');
  return items.length > max ? `${shown}; … and ${items.length - max} more` : shown;
}
