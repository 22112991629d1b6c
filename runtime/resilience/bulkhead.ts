/**
 * A bulkhead: at most `maxConcurrent` operations run at once, up to `maxQueue` more wait in FIFO order for a slot,
 * and a waiter gives up after `queueTimeoutMs`. A slow dependency can then hold only its own slots, never every
 * worker of the service. When a slot frees and someone is waiting, the slot passes straight to the first waiter, so
 * a burst of new callers cannot overtake the queue or push the count past the limit.
 */

import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { Inspector } from '../inspection.ts';
import { BulkheadRejectedError } from './errors.ts';
import type { Operation, Policy } from './operation.ts';

export type BulkheadOptions = {
  /** Names the bulkhead in errors, events and stats (usually the dependency). */
  name: string;
  source?: string;
  maxConcurrent: number;
  /** Callers allowed to wait for a slot. Default 0: reject as soon as all slots are taken. */
  maxQueue?: number;
  /** How long a caller may wait in the queue. Default: as long as it takes. */
  queueTimeoutMs?: number;
  clock?: Clock;
  inspector?: Inspector;
};

export type BulkheadStats = {
  name: string;
  active: number;
  queued: number;
  maxConcurrent: number;
  maxQueue: number;
  rejected: { queueFull: number; queueTimeout: number };
};

type Waiter = {
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
};

/**
 * A bulkhead policy.
 *
 * @example
 * const bulkhead = createBulkhead({ name: 'payment-provider', maxConcurrent: 10, maxQueue: 50, queueTimeoutMs: 1_000 });
 * await bulkhead.execute((signal) => provider.charge(order, { signal }));
 */
export class Bulkhead implements Policy {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private readonly source: string;
  private readonly queueTimeoutMs: number | undefined;
  private readonly clock: Clock;
  private readonly inspector: Inspector | undefined;
  /** Insertion-ordered, O(1) removal when a waiter times out or aborts. */
  private readonly queue = new Set<Waiter>();
  private active = 0;
  private rejectedQueueFull = 0;
  private rejectedQueueTimeout = 0;

  constructor(options: BulkheadOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be an integer ≥ 1, got ${options.maxConcurrent}`);
    }
    this.name = options.name;
    this.source = options.source ?? options.name;
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = options.maxQueue ?? 0;
    this.queueTimeoutMs = options.queueTimeoutMs;
    this.clock = options.clock ?? systemClock;
    this.inspector = options.inspector;
  }

  /**
   * Runs `operation` in a free slot, waiting in the queue if allowed. Throws `BulkheadRejectedError` when the queue
   * is full or the wait times out, and the signal's reason when `signal` aborts while waiting.
   *
   * @example
   * try {
   *   await bulkhead.execute(() => work());
   * } catch (error) {
   *   if (error instanceof BulkheadRejectedError) return tooBusy(error.reason);
   *   throw error;
   * }
   */
  async execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.active < this.maxConcurrent) this.active++;
    else await this.waitForSlot(signal);
    try {
      return await operation(signal);
    } finally {
      this.release();
    }
  }

  /**
   * Running and waiting operations right now, and rejections so far.
   *
   * @example
   * bulkhead.stats(); // { name: 'payment-provider', active: 10, queued: 3, … }
   */
  stats(): BulkheadStats {
    return {
      name: this.name,
      active: this.active,
      queued: this.queue.size,
      maxConcurrent: this.maxConcurrent,
      maxQueue: this.maxQueue,
      rejected: { queueFull: this.rejectedQueueFull, queueTimeout: this.rejectedQueueTimeout },
    };
  }

  private waitForSlot(signal: AbortSignal | undefined): Promise<void> {
    if (this.queue.size >= this.maxQueue) {
      this.rejectedQueueFull++;
      return Promise.reject(this.rejection('queue-full'));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal, onAbort: undefined };
      if (this.queueTimeoutMs !== undefined) {
        waiter.timer = this.clock.setTimeout(() => {
          this.leaveQueue(waiter);
          this.rejectedQueueTimeout++;
          reject(this.rejection('queue-timeout'));
        }, this.queueTimeoutMs);
      }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.leaveQueue(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.add(waiter);
    });
  }

  private release(): void {
    const next = this.queue.values().next();
    if (next.done) {
      this.active--;
      return;
    }
    // Hand the slot over: `active` stays as it is.
    this.leaveQueue(next.value);
    next.value.resolve();
  }

  private leaveQueue(waiter: Waiter): void {
    this.queue.delete(waiter);
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private rejection(reason: 'queue-full' | 'queue-timeout'): BulkheadRejectedError {
    this.inspector?.({
      type: 'bulkhead.rejected',
      at: this.clock.now(),
      source: this.source,
      bulkhead: this.name,
      reason,
      active: this.active,
      queued: this.queue.size,
    });
    return new BulkheadRejectedError(this.name, reason);
  }
}

/**
 * Creates a bulkhead (see `BulkheadOptions` for the defaults).
 *
 * @example
 * const bulkhead = createBulkhead({ name: 'inventory', maxConcurrent: 20, maxQueue: 100, queueTimeoutMs: 500 });
 */
export function createBulkhead(options: BulkheadOptions): Bulkhead {
  return new Bulkhead(options);
}
