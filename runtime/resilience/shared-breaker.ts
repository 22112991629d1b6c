/**
 * The shared half of a circuit breaker created with `shared: true`: every instance of the breaker (one per process
 * or replica, same name, same store prefix) records its calls into one window in Redis and follows one state there.
 * A Lua script per record or move judges the shared window and changes the shared state atomically, bumping its
 * version and publishing a notice; each instance reads the new record and moves its own machine to it
 * (`shared.changed`), so a trip seen by one instance opens them all. The hot path never waits for Redis: a closed
 * call's outcome is sent without awaiting the reply; only a half-open probe permit is awaited, bounded. While Redis
 * is unreachable the breaker judges its own window (which it keeps filling all along) and says so once.
 */

import type { Clock } from '../clock.ts';
import type { BreakerState } from '../inspection.ts';
import { scripts } from '../redis/script.ts';
import type { BreakerStore, SharedCause, SharedView, StoreMember } from './breaker-store.ts';
import type { HalfOpenMode, OpenWait } from './circuit-breaker.machine.ts';
import {
  closedReason,
  createdReason,
  evaluatedReason,
  halfOpenReason,
  operatorReason,
  reopenedReason,
  tripReason,
  type TripEvidence,
  type TripThresholds,
} from './reasons.ts';
import type { WindowConfig } from './sliding-window.ts';

/** What the shared half needs of its breaker. */
export interface SharedHost {
  readonly name: string;
  readonly clock: Clock;
  /** The breaker's state right now. */
  current(): BreakerState;
  /** Moves the breaker's machine to the shared record's state. */
  adopt(view: SharedView, reason: string, evidence: TripEvidence | undefined): void;
  /** Reports a switch between shared and local state. */
  switched(mode: 'shared' | 'local', reason: string): void;
}

export type SharedConfig = {
  window: WindowConfig;
  windowDescription: string;
  thresholds: TripThresholds;
  probes: number;
  halfOpen: HalfOpenMode;
  wait: OpenWait;
};

/** The shared window's totals after the last recorded call (-1 before any). */
export type SharedWindowTotals = { calls: number; failures: number; slowCalls: number };

export class SharedBreaker implements StoreMember {
  /** Whether the breaker follows the shared state now (Redis reachable). */
  active = false;
  /** The version of the shared record the breaker last followed. */
  version = 0;
  readonly totals: SharedWindowTotals = { calls: -1, failures: -1, slowCalls: -1 };
  private readonly recordArgs: (string | number)[];
  private reading = false;
  private readAgain = false;

  constructor(
    private readonly host: SharedHost,
    private readonly store: BreakerStore,
    private readonly config: SharedConfig,
  ) {
    const { window, thresholds, wait } = config;
    // Everything after ARGV[3] is the same for every call: built once.
    this.recordArgs = [
      window.kind,
      window.kind === 'count' ? window.size : window.ms / (window.buckets ?? 10),
      window.kind === 'count' ? 0 : (window.buckets ?? 10),
      thresholds.minimumCalls,
      thresholds.failureRateThreshold,
      thresholds.slowCallRateThreshold,
      wait.initialMs,
      wait.multiplier,
      wait.maxMs,
      store.notices,
      host.name,
    ];
    store.join(this);
  }

  get name(): string {
    return this.host.name;
  }

  get instance(): string {
    return this.store.instance;
  }

  /** Records a closed call's outcome bits in the shared window, without making the caller wait. */
  record(outcome: number, version: number, now: number): void {
    this.store.run(scripts.recordBreakerCall, this.name, [version, outcome, now, ...this.recordArgs]).then(
      (reply) => {
        const calls = Number(reply[2]);
        if (calls >= 0) {
          this.totals.calls = calls;
          this.totals.failures = Number(reply[3]);
          this.totals.slowCalls = Number(reply[4]);
        }
        this.learn(Number(reply[0]));
      },
      () => {
        // The store has switched the breaker to local state; this outcome is in the local window already.
      },
    );
  }

  /** Asks for a half-open probe permit; `undefined` when Redis did not answer (the breaker is local now). */
  async acquireProbe(): Promise<{ granted: boolean; version: number } | undefined> {
    try {
      const reply = await this.store.runBounded(scripts.acquireBreakerProbe, this.name, [this.host.clock.now(), this.config.probes, this.store.notices, this.name]);
      const version = Number(reply[1]);
      // Learn first: the permit may be for a half-open period this instance has not seen yet.
      await this.follow(version);
      return { granted: Number(reply[0]) === 1, version };
    } catch {
      return undefined;
    }
  }

  /** Records a probe's outcome bits (-1: ignored, give the permit back); `cause` words a first-failure reopen. */
  recordProbe(outcome: number, version: number, cause: SharedCause): void {
    const { thresholds, wait } = this.config;
    const args = [
      version,
      outcome,
      this.host.clock.now(),
      this.config.halfOpen,
      this.config.probes,
      thresholds.failureRateThreshold,
      thresholds.slowCallRateThreshold,
      wait.initialMs,
      wait.multiplier,
      wait.maxMs,
      JSON.stringify(cause),
      this.store.notices,
      this.name,
    ];
    this.store.run(scripts.recordBreakerProbe, this.name, args).then(
      (reply) => this.learn(Number(reply[0])),
      () => {},
    );
  }

  /** An operator's command, for every instance. */
  move(to: 'forcedOpen' | 'disabled' | 'closed', cause: SharedCause): void {
    if (!this.active) return;
    this.store.run(scripts.moveBreaker, this.name, [to, this.host.clock.now(), JSON.stringify(cause), this.store.notices, this.name]).then(
      (reply) => this.learn(Number(reply[0])),
      () => {},
    );
  }

  refresh(): void {
    if (this.active) void this.follow(-1);
  }

  reachability(up: boolean, reason: string): void {
    if (up === this.active) return;
    this.active = up;
    this.host.switched(up ? 'shared' : 'local', reason);
    if (up) void this.follow(-1);
  }

  instanceView(): { source: string; state: BreakerState; mode: 'shared' | 'local' } {
    return { source: (this.host as { source?: string }).source ?? this.name, state: this.host.current(), mode: this.active ? 'shared' : 'local' };
  }

  dispose(): void {
    this.active = false;
    this.store.leave(this);
  }

  /** The sentence for a shared record's cause, in this breaker's words. */
  reasonOf(cause: SharedCause): string {
    const { thresholds } = this.config;
    switch (cause.kind) {
      case 'created':
        return createdReason;
      case 'trip':
        return tripReason(cause, thresholds, this.config.windowDescription) ?? 'opened';
      case 'wait':
        return halfOpenReason(cause.waitMs);
      case 'reopen':
        return cause.error !== undefined
          ? reopenedReason({ error: cause.error })
          : reopenedReason({ durationMs: cause.durationMs ?? 0, slowCallDurationMs: thresholds.slowCallDurationMs });
      case 'closed':
        return closedReason(cause.probes);
      case 'evaluated':
        return evaluatedReason(cause, thresholds).reason;
      case 'operator':
        return operatorReason(cause.action, cause.note);
    }
  }

  private learn(version: number): void {
    if (version > this.version) void this.follow(version);
  }

  /** Reads the shared record and moves the breaker to it, unless it is no newer than `atLeast` requires. */
  private async follow(atLeast: number): Promise<void> {
    if (atLeast >= 0 && atLeast <= this.version) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const view = await this.store.read(this.name);
        if (this.active) this.apply(view);
      } while (this.readAgain);
    } catch {
      // Unreachable: the store has told the breaker.
    } finally {
      this.reading = false;
    }
  }

  private apply(view: SharedView): void {
    if (view.version < this.version) return;
    this.version = view.version;
    const local = this.host.current();
    const now = this.host.clock.now();
    // An open record whose wait is over is half-open in all but name (the first instance to ask for a probe moves it).
    const waitOver = view.state === 'open' && now >= view.openedAt + view.waitMs;
    if (local === view.state || (waitOver && local === 'halfOpen')) return;
    const evidence = view.cause.kind === 'trip' ? { calls: view.cause.calls, failures: view.cause.failures, slowCalls: view.cause.slowCalls } : undefined;
    this.host.adopt(view, this.reasonOf(view.cause), evidence);
  }
}
