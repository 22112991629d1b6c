/**
 * Time and randomness as values, so breakers, retries, timers and sagas can be driven by a simulated clock and a
 * seed in tests (the habit of xstate's `SimulatedClock`). Nothing that decides on time calls `Date.now()`,
 * `setTimeout` or `Math.random()` directly.
 */

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A source of uniformly distributed numbers in [0, 1). */
export type Random = () => number;

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { id: Number(t) } as TimerHandle & { t: typeof t };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id);
  },
};

export const systemRandom: Random = Math.random;

/**
 * A deterministic random source (mulberry32).
 *
 * @example
 * const random = seededRandom(42);
 * random(); // always the same first number for seed 42
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A clock that only moves when told to. Timers fire in due order, each seeing `now()` equal to its due time.
 *
 * @example
 * const clock = new SimulatedClock(0);
 * clock.setTimeout(() => console.log('fired'), 1000);
 * clock.advance(1000); // logs "fired"
 */
export class SimulatedClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; seq: number; fn: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.time + Math.max(0, ms), seq: id, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (including ones they set). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: [number, { due: number; seq: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].due > target) continue;
        if (!next || entry[1].due < next[1].due || (entry[1].due === next[1].due && entry[1].seq < next[1].seq)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].due);
      next[1].fn();
    }
    this.time = target;
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }
}
