/**
 * The Overview's saga counters, folded from `saga.step` inspection events: how many sagas are running
 * (including compensating), completed, compensated and parked; orders started per second over the last 10 s; and
 * the p50/p99 of how long sagas took to finish over the last 60 s. A saga is counted once, by its latest status.
 */
import type { SagaStepEvent } from '../../runtime/index.ts';

export type SagaCounts = { completed: number; compensated: number; parked: number; running: number };
export type Stats = { sagas: SagaCounts; ordersPerSec: number; sagaLatencyMs: { p50: number | null; p99: number | null } };

type Status = keyof SagaCounts;

const RATE_WINDOW_MS = 10_000;
const LATENCY_WINDOW_MS = 60_000;
/** Sagas remembered by id; the oldest finished ones are forgotten first (their counts stay). */
const MAX_TRACKED = 100_000;

function statusAfter(event: SagaStepEvent): Status {
  if (event.phase === 'parked') return 'parked';
  if (event.step === 'saga' && event.phase === 'completed') return 'completed';
  if (event.step === 'saga' && event.phase === 'compensated') return 'compensated';
  return 'running';
}

/**
 * The `p`th percentile (0–100) of sorted values, nearest rank; null when there are none.
 *
 * @example
 * percentile([10, 20, 30, 40], 50); // 20
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export class SagaStats {
  private readonly latest = new Map<string, Status>();
  private readonly counts: SagaCounts = { completed: 0, compensated: 0, parked: 0, running: 0 };
  private starts: number[] = [];
  private finishes: { at: number; durationMs: number }[] = [];

  /** Folds one event in (others than `saga.step` are ignored). */
  add(event: { type: string }): void {
    if (event.type !== 'saga.step') return;
    const step = event as SagaStepEvent;
    const key = `${step.saga}/${step.sagaId}`;
    const before = this.latest.get(key);
    const after = statusAfter(step);
    if (before === undefined && step.phase === 'started') this.starts.push(step.at);
    if (before !== after) {
      if (before !== undefined) this.counts[before]--;
      this.counts[after]++;
      this.latest.delete(key);
    }
    this.latest.set(key, after);
    if ((after === 'completed' || after === 'compensated') && step.durationMs !== undefined) this.finishes.push({ at: step.at, durationMs: step.durationMs });
    if (this.latest.size > MAX_TRACKED) this.forgetOldest();
  }

  /** The counters as of `now`. */
  snapshot(now: number): Stats {
    this.starts = this.starts.filter((at) => at > now - RATE_WINDOW_MS);
    this.finishes = this.finishes.filter((f) => f.at > now - LATENCY_WINDOW_MS);
    const durations = this.finishes.map((f) => f.durationMs).sort((a, b) => a - b);
    return {
      sagas: { ...this.counts },
      ordersPerSec: Math.round((this.starts.length / (RATE_WINDOW_MS / 1000)) * 10) / 10,
      sagaLatencyMs: { p50: percentile(durations, 50), p99: percentile(durations, 99) },
    };
  }

  private forgetOldest(): void {
    for (const [key, status] of this.latest) {
      if (status === 'completed' || status === 'compensated') {
        this.latest.delete(key);
        if (this.latest.size <= MAX_TRACKED * 0.9) return;
      }
    }
  }
}
