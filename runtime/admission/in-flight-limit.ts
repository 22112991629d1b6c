/**
 * A cap on work in flight that finds its own level: the other half of admission control. The backlog bounds
 * (`admission-gate.ts`) see a queue only once it has formed, a few hundred ms after the work that formed it was let
 * in — a saga admitted now adds its turns to one mailbox after another — so at twice the peak rate they let in bursts
 * and accepted work waited ~1 s. Little's law says latency = work in flight ÷ throughput: capping what is in flight
 * caps the wait, and refuses the rest at once.
 *
 * The cap adapts (additive increase, multiplicative decrease, as TCP's window): every `windowMs`, the latencies of
 * the work that ended are looked at, if at least half the limit was in use at some moment of the window (else the
 * limit is not what decides the latency: slow work then is a slow dependency's doing, and little asked of a fast
 * system says nothing of how much more it could take). If their 90th percentile passed `targetMs`, the limit
 * shrinks by 15 %; if not, it grows by a tenth (a quarter while the percentile is under half the target; one at
 * least). So it keeps about twice the room the work needs.
 * Only work admitted under the current limit judges it, so one slow burst shrinks it once, not once per window
 * while that burst drains. Work whose end is never reported is let go after `expireMs` and counts as slow.
 *
 * The holder reports each end (`release`): the gateway learns of a saga's end from the order service's events.
 */
import { systemClock, type Clock } from '../clock.ts';
import { AdmissionRefusedError } from './admission-refused-error.ts';

export type InFlightLimitOptions = {
  /** The service the work goes to: named in refusals and in `mailroom_admission_refused_total`. */
  service: string;
  /** The latency (ms, admitted → ended) the 90th percentile of admitted work is kept under. */
  targetMs: number;
  /** Default 16. */
  initial?: number;
  /** The limit never falls below this. Default 12 (or `max`, if smaller). */
  min?: number;
  /** The limit never grows above this. Default 1,000. */
  max?: number;
  /** How often the limit is judged (ms). Default 250. */
  windowMs?: number;
  /** Work whose end is not reported within this (ms) is let go, as slow. Default 30,000. */
  expireMs?: number;
  clock?: Clock;
  /** False: nothing is counted or refused until `enforce()` (the holder cannot hear of ends yet). Default true. */
  enforcing?: boolean;
  /** Each refusal (for a metric). */
  onRefused?: () => void;
};

/** Ends needed before a window says anything; with fewer, it stays open. */
const MIN_SAMPLES = 5;

type Admitted = { at: number; epoch: number };

export class InFlightLimit {
  private limitNow: number;
  private readonly inFlight = new Map<string, Admitted>();
  /** Bumped by every decrease: work admitted before it does not judge the new limit. */
  private epoch = 0;
  private windowStart: number;
  private samples: number[] = [];
  /** The most work in flight at once in this window. */
  private busiest = 0;
  private readonly clock: Clock;
  private readonly min: number;
  private readonly max: number;
  private readonly windowMs: number;
  private readonly expireMs: number;
  private enforcing: boolean;

  constructor(private readonly options: InFlightLimitOptions) {
    this.clock = options.clock ?? systemClock;
    this.min = options.min ?? Math.min(12, options.max ?? 12);
    this.max = options.max ?? 1_000;
    this.windowMs = options.windowMs ?? 250;
    this.expireMs = options.expireMs ?? 30_000;
    if (!(this.min >= 1 && this.max >= this.min)) throw new Error(`in-flight limit: min ${this.min} and max ${this.max} must satisfy 1 ≤ min ≤ max`);
    this.limitNow = Math.min(this.max, Math.max(this.min, options.initial ?? 16));
    this.windowStart = this.clock.now();
    this.enforcing = options.enforcing ?? true;
  }

  /** Whether work is counted and refused now. */
  get enforced(): boolean {
    return this.enforcing;
  }

  /** From now on, work is counted and refused (see `enforcing`). */
  enforce(): void {
    this.enforcing = true;
  }

  /** The limit now. */
  get limit(): number {
    return this.limitNow;
  }

  /** Work admitted and not yet ended. */
  get size(): number {
    this.expire(this.clock.now());
    return this.inFlight.size;
  }

  /**
   * Admits work `id` (its end is reported with `release(id)`), or throws 429 `OVERLOADED` (reason `in-flight`)
   * when as much work as the limit allows is in flight. True when `id` was admitted now; false when it already was
   * in flight (a repeated request), which changes nothing, or while the limit is not enforced.
   *
   * @example
   * const added = limit.admit(orderId); // throws AdmissionRefusedError when full
   */
  admit(id: string): boolean {
    if (!this.enforcing) return false;
    const now = this.clock.now();
    this.expire(now);
    this.judge(now);
    if (this.inFlight.has(id)) return false;
    if (this.inFlight.size >= this.limitNow) {
      this.busiest = this.limitNow;
      this.options.onRefused?.();
      const { service, targetMs } = this.options;
      throw new AdmissionRefusedError(
        service,
        'in-flight',
        1_000,
        `${service} is overloaded: ${this.inFlight.size} of the work sent to it is still in flight, as much as the limit allows now (${this.limitNow}, kept where that work ends within ${targetMs} ms); nothing was done, retry in 1 s`,
        { inFlight: this.inFlight.size, limit: this.limitNow, targetMs },
      );
    }
    this.inFlight.set(id, { at: now, epoch: this.epoch });
    this.busiest = Math.max(this.busiest, this.inFlight.size);
    return true;
  }

  /**
   * Work `id` ended: its slot is free. `timed: false` for work that ended without being done (it was refused
   * further on, or failed before it was queued): its latency says nothing of the load. Unknown ids are ignored
   * (admitted elsewhere, or already let go).
   */
  release(id: string, options: { timed?: boolean } = {}): void {
    const admitted = this.inFlight.get(id);
    if (!admitted) return;
    this.inFlight.delete(id);
    const now = this.clock.now();
    if (options.timed !== false && admitted.epoch === this.epoch) this.samples.push(now - admitted.at);
    this.judge(now);
  }

  /** Lets go of work admitted more than `expireMs` ago; each counts as an end at `expireMs`. */
  private expire(now: number): void {
    // Insertion order is admission order: the oldest come first.
    for (const [id, admitted] of this.inFlight) {
      if (now - admitted.at < this.expireMs) return;
      this.inFlight.delete(id);
      if (admitted.epoch === this.epoch) this.samples.push(this.expireMs);
    }
  }

  private judge(now: number): void {
    if (now - this.windowStart < this.windowMs || this.samples.length < MIN_SAMPLES) return;
    const sorted = Float64Array.from(this.samples).sort();
    const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
    // Slow work while little was in flight is not this limit's doing (a slow dependency, a pause): it stays.
    const pressed = this.busiest * 2 >= this.limitNow;
    if (p90 > this.options.targetMs && pressed) {
      this.limitNow = Math.max(this.min, Math.floor(this.limitNow * 0.85));
      this.epoch++;
    } else if (p90 <= this.options.targetMs && pressed) {
      // Far below the target there is room to spare: grow faster (back from a slow start, say).
      const step = p90 <= this.options.targetMs / 2 ? 0.25 : 0.1;
      this.limitNow = Math.min(this.max, this.limitNow + Math.max(1, Math.round(this.limitNow * step)));
    }
    this.samples = [];
    this.busiest = this.inFlight.size;
    this.windowStart = now;
  }
}
