/**
 * A saga's log as a timeline (after Temporal's event groups): one row per step and per compensation, each a bar from
 * its start to its end on the saga's own clock, with its outcome, attempts, duration and reason. Compensations
 * are labelled with the reply that completes them in the saga's real machine (`payment.refunded`), so the panel
 * names what undoing a step means without knowing any service.
 */
import type { MachineGraph, SagaLogEntry } from '../api/types.ts';

export type RowOutcome = 'running' | 'succeeded' | 'failed' | 'timedOut' | 'compensating' | 'compensated' | 'parked';

export type TimelineRow = {
  step: string;
  kind: 'step' | 'compensation';
  /** ms since the saga started. */
  start: number;
  /** ms since the saga started; null while the row is still open. */
  end: number | null;
  outcome: RowOutcome;
  attempts: number;
  durationMs: number | null;
  reason?: string;
  /** When it failed, timed out or retried (ms since the epoch), for finding the cause. */
  failedAt?: number;
  /** Retries: their time (ms since the saga started) and reason. */
  retries: { at: number; reason?: string }[];
  /** What completes it in the machine (the success reply), e.g. `payment.refunded`. */
  completesWith?: string;
};

export type Timeline = {
  startedAt: number;
  /** ms from the saga's start to its end (or to `now` while it runs). */
  totalMs: number;
  rows: TimelineRow[];
  /** The saga's own end: completed or compensated, with its reason. */
  end?: { phase: 'completed' | 'compensated'; at: number; reason?: string };
};

/**
 * The reply events that move each state forward in a machine graph (not timers, not operator commands), by state
 * key: `{ chargePayment: ['payment.charged'], undoChargePayment: ['payment.refunded'] }`.
 */
export function completingEvents(graph: MachineGraph | null | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!graph) return out;
  const keyOf = new Map(graph.states.map((s) => [s.id, s.key]));
  const parentOf = new Map(graph.states.map((s) => [s.id, s.parent]));
  for (const t of graph.transitions) {
    if (t.targets.length === 0 || t.event.startsWith('after') || t.event === 'always' || t.event.startsWith('saga.')) continue;
    if (parentOf.get(t.source) !== graph.id) continue; // steps are the machine's top-level states
    const key = keyOf.get(t.source);
    if (!key) continue;
    const list = out.get(key) ?? [];
    if (!list.includes(t.event)) list.push(t.event);
    out.set(key, list);
  }
  return out;
}

/**
 * @example
 * sagaTimeline(view.startedAt, view.log, Date.now(), completingEvents(graph)).rows.map((r) => `${r.step}: ${r.outcome}`);
 * // ['createOrder: succeeded', 'reserveInventory: succeeded', 'chargePayment: failed', 'undoReserveInventory: compensated', …]
 */
export function sagaTimeline(startedAt: number, log: SagaLogEntry[], now: number, completes = new Map<string, string[]>()): Timeline {
  const rows: TimelineRow[] = [];
  const open = new Map<string, TimelineRow>();
  let end: Timeline['end'];
  const rel = (at: number) => Math.max(0, at - startedAt);
  for (const entry of log) {
    if (entry.step === 'saga') {
      if (entry.phase === 'completed' || entry.phase === 'compensated') end = { phase: entry.phase, at: entry.at, reason: entry.reason };
      continue;
    }
    let row = open.get(entry.step);
    const opens = entry.phase === 'started' || entry.phase === 'compensating';
    if (!row || (opens && row.end !== null)) {
      const compensation = entry.phase === 'compensating' || /^undo[A-Z]/.test(entry.step);
      row = {
        step: entry.step,
        kind: compensation ? 'compensation' : 'step',
        start: rel(entry.at),
        end: null,
        outcome: compensation ? 'compensating' : 'running',
        attempts: 0,
        durationMs: null,
        retries: [],
        // A step names its success reply; a compensation every reply that ends it.
        completesWith: compensation ? completes.get(entry.step)?.join(' / ') : completes.get(entry.step)?.[0],
      };
      rows.push(row);
      open.set(entry.step, row);
    }
    if (entry.attempt !== undefined) row.attempts = Math.max(row.attempts, entry.attempt);
    else if (opens) row.attempts = Math.max(row.attempts, 1);
    switch (entry.phase) {
      case 'started':
      case 'compensating':
        if (row.end !== null) {
          row.end = null;
          row.outcome = row.kind === 'compensation' ? 'compensating' : 'running';
        }
        break;
      case 'retrying':
        row.retries.push({ at: rel(entry.at), reason: entry.reason });
        row.failedAt ??= entry.at;
        if (entry.reason) row.reason = entry.reason;
        break;
      case 'succeeded':
      case 'compensated':
      case 'failed':
      case 'timedOut':
      case 'parked':
        row.end = rel(entry.at);
        row.outcome = entry.phase;
        row.durationMs = entry.durationMs ?? row.end - row.start;
        if (entry.reason) row.reason = entry.reason;
        if (entry.phase === 'failed' || entry.phase === 'timedOut' || entry.phase === 'parked') row.failedAt = entry.at;
        break;
      case 'completed':
        break;
    }
  }
  const lastAt = end?.at ?? now;
  return { startedAt, totalMs: Math.max(1, rel(lastAt), ...rows.map((r) => r.end ?? rel(now))), rows, end };
}

/** A bar's left and width in percent of the timeline; a row still open runs to `now`. */
export function barOf(row: TimelineRow, timeline: Timeline, now: number): { left: number; width: number } {
  const total = timeline.totalMs;
  const endMs = row.end ?? Math.max(row.start, now - timeline.startedAt);
  const left = Math.min(100, (row.start / total) * 100);
  return { left, width: Math.max(0.6, Math.min(100 - left, ((endMs - row.start) / total) * 100)) };
}
