/**
 * The metrics that inspection events already say: every node, breaker, retry policy and saga reports through one
 * `Inspector`, so counting those events here keeps the counting out of their code. Per-message events are not
 * needed (and not always produced); everything counted here is produced whether or not anybody listens.
 */
import type { BreakerState, InspectionEvent } from '../inspection.ts';
import {
  breakerRejectedTotal,
  breakerState,
  breakerTransitionsTotal,
  bulkheadRejectedTotal,
  deadLettersTotal,
  leaseMovesTotal,
  retryAttemptsTotal,
  sagaDuration,
  sagaStepDuration,
  sagasTotal,
  timersArmedTotal,
  timersFiredTotal,
  metricsOn,
} from './metrics.ts';

const STATES: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled'];

/** Each saga's first step: its `started` (first try) is the saga's start. */
const firstSteps = new Map<string, string>();

/** Declares a saga's first step, so its start counts as the saga's (`defineSaga` calls it). */
export function declareSagaForMetrics(saga: string, firstStep: string): void {
  firstSteps.set(saga, firstStep);
}

/**
 * A breaker transition's reason as a label value: the kind of reason, never its numbers.
 *
 * @example
 * reasonClass('opened: 12 of 20 calls failed (60%) ≥ 50% within 10 s'); // 'failure_rate'
 */
export function reasonClass(reason: string): string {
  if (reason.startsWith('opened:')) return reason.includes(' took ') ? 'slow_calls' : 'failure_rate';
  if (reason.startsWith('half-open:')) return 'wait_elapsed';
  if (reason.startsWith('closed: reset by operator') || reason.includes('by operator')) return 'operator';
  if (reason.startsWith('closed:')) return reason.includes('probes succeeded') ? 'probes_succeeded' : 'created';
  if (reason.startsWith('reopened:')) return reason.includes(' took ') ? 'probe_slow' : 'probe_failed';
  return 'other';
}

/** Sets a breaker's state gauge (1 for its state, 0 for the others). */
export function setBreakerState(service: string, breaker: string, state: BreakerState): void {
  for (const s of STATES) breakerState.labels(service, breaker, s).set(s === state ? 1 : 0);
}

/**
 * Counts what an inspection event says. Cheap for events it does not count (one switch).
 *
 * @example
 * node.subscribe(countInspection);
 */
export function countInspection(event: InspectionEvent): void {
  if (!metricsOn) return;
  switch (event.type) {
    case 'deadletter':
      deadLettersTotal.labels(event.source).inc();
      return;
    case 'timer.armed':
      timersArmedTotal.labels(event.source).inc();
      return;
    case 'timer.fired':
      timersFiredTotal.labels(event.source).inc();
      return;
    case 'lease.moved':
      leaseMovesTotal.labels(event.service, event.to === '(lost)' ? 'lost' : 'acquired').inc();
      return;
    case 'breaker.transition':
      setBreakerState(event.source, event.breaker, event.to);
      breakerTransitionsTotal.labels(event.source, event.breaker, event.to, reasonClass(event.reason)).inc();
      return;
    case 'breaker.rejected':
      breakerRejectedTotal.labels(event.source, event.breaker).inc();
      return;
    case 'retry.attempt':
      retryAttemptsTotal.labels(event.source, event.policy).inc();
      return;
    case 'bulkhead.rejected':
      bulkheadRejectedTotal.labels(event.source, event.bulkhead, event.reason).inc();
      return;
    case 'saga.step':
      switch (event.phase) {
        case 'started':
          if (firstSteps.get(event.saga) === event.step) sagasTotal.labels(event.source, event.saga, 'started').inc();
          return;
        case 'completed':
        case 'compensated':
        case 'parked':
          // A step's compensation reports `compensated` too; the saga's own end is reported under step `saga`.
          if (event.step === 'saga' || event.phase === 'parked') sagasTotal.labels(event.source, event.saga, event.phase).inc();
          if (event.step === 'saga' && event.phase !== 'parked' && event.durationMs !== undefined) sagaDuration.labels(event.source, event.saga, event.phase).observe(event.durationMs / 1000);
          if (event.step !== 'saga' && event.durationMs !== undefined) sagaStepDuration.labels(event.source, event.saga, event.step, event.phase).observe(event.durationMs / 1000);
          return;
        case 'succeeded':
        case 'failed':
        case 'timedOut':
          if (event.durationMs !== undefined) sagaStepDuration.labels(event.source, event.saga, event.step, event.phase).observe(event.durationMs / 1000);
          return;
        default:
          return;
      }
    default:
      return;
  }
}
