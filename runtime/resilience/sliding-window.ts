/**
 * The sliding windows a circuit breaker judges a dependency by: the last N calls (count-based) or the calls of the
 * last T milliseconds kept in buckets (time-based), as Resilience4j has them. Recording is O(1) with running totals,
 * because it happens on every call through a closed breaker; time-based buckets expire lazily, on the next record or
 * read, so no timer runs per window.
 */

/** Outcome bits recorded per call. A call can be both failed and slow. */
export const FAILED = 1;
export const SLOW = 2;

export type WindowConfig = { kind: 'count'; size: number } | { kind: 'time'; ms: number; buckets?: number };

/** What a window holds right now. Rates are percentages (0–100); both are 0 for an empty window. */
export type WindowStats = {
  calls: number;
  failures: number;
  slowCalls: number;
  failureRate: number;
  slowCallRate: number;
};

export interface SlidingWindow {
  /** Running totals, valid right after `record` (a time window may hold expired buckets until the next call). */
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  /** Adds one call's outcome bits (`FAILED | SLOW`) at time `now`. */
  record(outcome: number, now: number): void;
  /** The totals at time `now`, expired buckets dropped. */
  stats(now: number): WindowStats;
  /** Forgets every call. */
  reset(): void;
}

/**
 * A window of the outcomes of the last N calls, whenever they happened.
 *
 * @example
 * const window = new CountWindow(20);
 * window.record(FAILED, clock.now());
 * window.stats(clock.now()).failureRate; // 100
 */
export class CountWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly ring: Uint8Array;
  private next = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a count window needs a size ≥ 1, got ${size}`);
    this.ring = new Uint8Array(size);
  }

  record(outcome: number, _now: number): void {
    const ring = this.ring;
    const at = this.next;
    if (this.calls === this.size) {
      const evicted = ring[at]!;
      this.failures -= evicted & FAILED;
      this.slowCalls -= (evicted & SLOW) >> 1;
    } else {
      this.calls++;
    }
    ring[at] = outcome;
    this.failures += outcome & FAILED;
    this.slowCalls += (outcome & SLOW) >> 1;
    this.next = at + 1 === this.size ? 0 : at + 1;
  }

  stats(_now: number): WindowStats {
    return statsOf(this.calls, this.failures, this.slowCalls);
  }

  reset(): void {
    this.calls = this.failures = this.slowCalls = this.next = 0;
    this.ring.fill(0);
  }
}

/**
 * A window of the calls of the last `ms` milliseconds, in `buckets` equal buckets (default 10). A call recorded at
 * time t stays in the window until the bucket after the last one covering t + ms begins, so the window spans between
 * `ms - bucketMs` and `ms` of history.
 *
 * @example
 * const window = new TimeWindow(10_000, 10); // ten buckets of 1 s
 * window.record(FAILED, 0);
 * window.stats(9_999).calls; // 1
 * window.stats(10_000).calls; // 0
 */
export class TimeWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  readonly bucketMs: number;
  // Closed buckets live in the ring; the newest (head) bucket is kept in plain fields, so recording a call inside
  // the current bucket is a comparison and three additions.
  private readonly bucketCalls: Float64Array;
  private readonly bucketFailures: Float64Array;
  private readonly bucketSlow: Float64Array;
  /** The index (time / bucketMs) of the head bucket, and the time it ends. */
  private head = -Infinity;
  private headEndsAt = -Infinity;
  private headCalls = 0;
  private headFailures = 0;
  private headSlow = 0;

  constructor(
    readonly ms: number,
    readonly buckets = 10,
  ) {
    if (!(ms > 0)) throw new RangeError(`a time window needs a positive length, got ${ms}`);
    if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`a time window needs ≥ 1 bucket, got ${buckets}`);
    this.bucketMs = ms / buckets;
    this.bucketCalls = new Float64Array(buckets);
    this.bucketFailures = new Float64Array(buckets);
    this.bucketSlow = new Float64Array(buckets);
  }

  record(outcome: number, now: number): void {
    // A clock that steps back (the wall clock can) records into the head bucket rather than rewriting history.
    if (now >= this.headEndsAt) this.advanceTo(Math.floor(now / this.bucketMs));
    const failed = outcome & FAILED;
    const slow = (outcome & SLOW) >> 1;
    this.headCalls++;
    this.headFailures += failed;
    this.headSlow += slow;
    this.calls++;
    this.failures += failed;
    this.slowCalls += slow;
  }

  stats(now: number): WindowStats {
    if (now >= this.headEndsAt) this.advanceTo(Math.floor(now / this.bucketMs));
    return statsOf(this.calls, this.failures, this.slowCalls);
  }

  reset(): void {
    this.calls = this.failures = this.slowCalls = 0;
    this.headCalls = this.headFailures = this.headSlow = 0;
    this.bucketCalls.fill(0);
    this.bucketFailures.fill(0);
    this.bucketSlow.fill(0);
    this.head = this.headEndsAt = -Infinity;
  }

  /** Closes the head bucket and drops the buckets that fall out of the window when `index` becomes the head. */
  private advanceTo(index: number): void {
    if (index <= this.head) return;
    if (index - this.head >= this.buckets) {
      this.reset();
    } else {
      const n = this.buckets;
      const closed = this.head % n;
      this.bucketCalls[closed] = this.headCalls;
      this.bucketFailures[closed] = this.headFailures;
      this.bucketSlow[closed] = this.headSlow;
      // Every bucket the window moves past is dropped (an idle gap may skip several).
      for (let i = this.head + 1; i <= index; i++) {
        const slot = i % n;
        this.calls -= this.bucketCalls[slot]!;
        this.failures -= this.bucketFailures[slot]!;
        this.slowCalls -= this.bucketSlow[slot]!;
        this.bucketCalls[slot] = this.bucketFailures[slot] = this.bucketSlow[slot] = 0;
      }
    }
    this.headCalls = this.headFailures = this.headSlow = 0;
    this.head = index;
    this.headEndsAt = (index + 1) * this.bucketMs;
  }
}

/**
 * The window a configuration asks for.
 *
 * @example
 * createWindow({ kind: 'time', ms: 10_000 });
 */
export function createWindow(config: WindowConfig): SlidingWindow {
  return config.kind === 'count' ? new CountWindow(config.size) : new TimeWindow(config.ms, config.buckets);
}

function statsOf(calls: number, failures: number, slowCalls: number): WindowStats {
  return {
    calls,
    failures,
    slowCalls,
    failureRate: calls === 0 ? 0 : (failures / calls) * 100,
    slowCallRate: calls === 0 ? 0 : (slowCalls / calls) * 100,
  };
}
