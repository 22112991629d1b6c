/**
 * Helpers for the resilience tests: deferred promises, a collector of inspection events, and ways to let promise
 * chains run and drive a `SimulatedClock` without ever sleeping in real time.
 */

import type { SimulatedClock } from '../../runtime/index.ts';
import type { InspectionEvent } from '../../runtime/index.ts';

export type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void };

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise reaction run (one macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An inspector that keeps what it is given, with a typed filter. */
export function collector(): {
  events: InspectionEvent[];
  inspector: (event: InspectionEvent) => void;
  of: <K extends InspectionEvent['type']>(type: K) => Extract<InspectionEvent, { type: K }>[];
} {
  const events: InspectionEvent[] = [];
  return {
    events,
    inspector: (event) => void events.push(event),
    of: (type) => events.filter((event) => event.type === type) as never,
  };
}

/** Tracks whether a promise has settled, without letting its rejection go unhandled. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; result: Promise<{ value?: T; error?: unknown }> } {
  let done = false;
  const result = promise.then(
    (value) => {
      done = true;
      return { value };
    },
    (error: unknown) => {
      done = true;
      return { error };
    },
  );
  return { settled: () => done, result };
}

/** Advances `clock` in `stepMs` steps, letting promises run between steps, until `promise` settles. */
export async function drive<T>(clock: SimulatedClock, promise: Promise<T>, stepMs = 100, maxSteps = 100_000): Promise<{ value?: T; error?: unknown }> {
  const tracked = track(promise);
  for (let step = 0; step < maxSteps; step++) {
    await flush();
    if (tracked.settled()) return tracked.result;
    clock.advance(stepMs);
  }
  throw new Error(`still pending after ${maxSteps} steps of ${stepMs} ms`);
}

/** Advances `clock` by `ms` in `stepMs` steps, letting promises run after each step. */
export async function advance(clock: SimulatedClock, ms: number, stepMs = 10): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) {
    clock.advance(Math.min(stepMs, ms - passed));
    await flush();
  }
}

/** Polls `condition` between macrotask turns (for real I/O), failing after `maxMs` of real time. */
export async function until(condition: () => boolean, maxMs = 5_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await flush();
  }
}
