/**
 * The callable circuit breaker: `breaker.execute(fn)` around a dependency, with operator controls, stats and a
 * subscribe API. Its state is the state of the XState machine in `circuit-breaker.machine.ts`. The hot path does not
 * send the machine an event per call (an XState `send` costs 6–9 µs, ten times a whole opossum call): while closed it
 * only records the outcome in the sliding window and reads the state the machine's subscription mirrors, and only a
 * window crossing its thresholds, half-open probes and operator commands become machine events. The mirror is written
 * by nothing but that subscription, which XState calls synchronously inside `send`, so it is the machine's state at
 * every moment a caller can observe.
 *
 * With `shared: true` (and a `BreakerStore`) the breaker's instances in every process share one window and one state
 * in Redis (`shared-breaker.ts`); local state, the default, is what is described above and is unchanged.
 */

import { createActor, type Actor } from 'xstate';
import { systemClock, type Clock } from '../clock.ts';
import type { BreakerRejectedEvent, BreakerSharingEvent, BreakerState, BreakerTransitionEvent, Inspector } from '../inspection.ts';
import type { BreakerStore, SharedCause } from './breaker-store.ts';
import { SharedBreaker } from './shared-breaker.ts';
import { circuitBreakerMachine, halfOpenModes, type HalfOpenMode, type OpenWait } from './circuit-breaker.machine.ts';
import { CircuitOpenError, describeError } from './errors.ts';
import type { Operation, Policy } from './operation.ts';
import { defaultClassify, type CallOutcome } from './outcomes.ts';
import { describeWindow, type TripThresholds } from './reasons.ts';
import { setBreakerState } from '../observe/inspection-metrics.ts';
import { SpanStatusCode, startSpan, tracing } from '../observe/tracing.ts';
import { createWindow, FAILED, SLOW, type SlidingWindow, type WindowConfig, type WindowStats } from './sliding-window.ts';

export type CircuitBreakerOptions = {
  /** Names the breaker in reasons, errors, events and stats (usually the dependency: `payment-provider`). */
  name: string;
  /** The process or service the breaker lives in; the `source` of its inspection events. Default: `name`. */
  source?: string;
  clock?: Clock;
  /** Receives every transition and every rejected call. */
  inspector?: Inspector;
  /** Default: the last 10 s in 10 buckets. */
  window?: WindowConfig;
  /**
   * Calls the window must hold before it is judged at all. Default 10. A count window smaller than this is judged
   * once it is full (the minimum becomes its size, as in Resilience4j), or it could never open.
   */
  minimumCalls?: number;
  /**
   * Percent of failed calls (above 0, at most 100) that opens the breaker. Default 50. 0 is refused: a window is
   * judged with `≥`, so it would open on calls that all succeed.
   */
  failureRateThreshold?: number;
  /** A call taking at least this long is slow (above 0 ms: at 0 every call would be). Default 10 s. */
  slowCallDurationMs?: number;
  /** Percent of slow calls (above 0, at most 100) that opens the breaker. Default 100. */
  slowCallRateThreshold?: number;
  /** How long to stay open: a fixed wait, or one that grows by `multiplier` on every trip until it closes. Default 30 s. */
  openWait?: number | Partial<OpenWait>;
  /** Probe calls let through in half-open. Default 3. */
  halfOpenProbes?: number;
  /**
   * How half-open judges its probes: `first-failure` (default) reopens on the first failed or slow probe and closes
   * after `halfOpenProbes` successes; `evaluate` runs all of them and compares their failure and slow-call rates with
   * the thresholds (Resilience4j). See `docs/breakers.md`.
   */
  halfOpen?: HalfOpenMode;
  /** Which errors count against the dependency. Default: `defaultClassify` (4xx never do). */
  classify?: (error: unknown) => CallOutcome;
  /** Transitions kept for `stats()`. Default 20. */
  historySize?: number;
  /**
   * Share the window and the state with every other instance of this breaker (same `name`, same store prefix), in
   * any process, through `store`. Default false: the breaker judges only its own calls. See `docs/breakers.md`.
   */
  shared?: boolean;
  /** Where a shared breaker keeps its state (one per process: `createBreakerStore`). Required with `shared: true`. */
  store?: BreakerStore;
};

/** One change of state, as `stats()` lists them. */
export type BreakerTransition = { from: BreakerState; to: BreakerState; reason: string; at: number };

export type BreakerStats = {
  name: string;
  state: BreakerState;
  /** Why the breaker is in its state. */
  reason: string;
  /** When it entered it. */
  since: number;
  /** While rejecting: how long until it lets a probe through. */
  retryAfterMs: number | undefined;
  window: WindowStats & { description: string };
  thresholds: TripThresholds;
  /** The wait of the current or last open period, and the trips since it last closed. */
  waitMs: number;
  trips: number;
  /** This half-open period's probes (`failed` and `slow` overlap: a probe can be both). */
  probes: { mode: HalfOpenMode; permitted: number; admitted: number; succeeded: number; failed: number; slow: number };
  /** Calls rejected since the breaker was created. */
  rejected: number;
  /** The most recent transitions into `open` or `forcedOpen`, oldest first. */
  lastTrips: BreakerTransition[];
  /** The most recent transitions, oldest first. */
  transitions: BreakerTransition[];
  /** A shared breaker's side: whether it follows the shared state now, and the shared window after its last call. */
  sharing?: { mode: 'shared' | 'local'; instance: string; version: number; window: { calls: number; failures: number; slowCalls: number } };
};

export type BreakerEvent = BreakerTransitionEvent | BreakerRejectedEvent | BreakerSharingEvent;

const IGNORED = -1;

/**
 * A circuit breaker guarding one dependency.
 *
 * @example
 * const breaker = createCircuitBreaker({ name: 'payment-provider', source: 'payment', clock, inspector });
 * const receipt = await breaker.execute((signal) => charge(card, { signal }));
 * breaker.stats().state; // 'closed'
 */
export class CircuitBreaker implements Policy {
  readonly name: string;
  readonly source: string;
  /** The machine holding the breaker's state; the panel and the runtime may inspect it. */
  readonly actor: Actor<typeof circuitBreakerMachine>;
  readonly clock: Clock;
  private readonly window: SlidingWindow;
  private readonly sharing: SharedBreaker | undefined;
  private readonly windowDescription: string;
  private readonly classify: (error: unknown) => CallOutcome;
  private readonly inspector: Inspector | undefined;
  private readonly listeners = new Set<(event: BreakerEvent) => void>();
  private readonly historySize: number;
  private readonly history: BreakerTransition[] = [];
  private readonly trips: BreakerTransition[] = [];
  // Hot-path copies of the thresholds.
  private readonly minimumCalls: number;
  private readonly failureRateThreshold: number;
  private readonly slowCallRateThreshold: number;
  private readonly slowCallDurationMs: number;
  /** The machine's state, written only by the actor subscription. */
  private mirror: BreakerState = 'closed';
  /** Bumped on every transition, so a call that started in an earlier state cannot report into a later one. */
  private epoch = 0;
  private since: number;
  private rejected = 0;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.source = options.source ?? options.name;
    this.clock = options.clock ?? systemClock;
    this.inspector = options.inspector;
    this.classify = options.classify ?? defaultClassify;
    this.historySize = options.historySize ?? 20;
    const windowConfig = options.window ?? { kind: 'time', ms: 10_000, buckets: 10 };
    this.window = createWindow(windowConfig);
    this.windowDescription = describeWindow(windowConfig);
    const minimumCalls = options.minimumCalls ?? 10;
    if (!Number.isInteger(minimumCalls) || minimumCalls < 1) throw new RangeError(`minimumCalls must be an integer ≥ 1, got ${minimumCalls}`);
    this.minimumCalls = windowConfig.kind === 'count' ? Math.min(minimumCalls, windowConfig.size) : minimumCalls;
    this.failureRateThreshold = percent('failureRateThreshold', options.failureRateThreshold ?? 50);
    this.slowCallRateThreshold = percent('slowCallRateThreshold', options.slowCallRateThreshold ?? 100);
    this.slowCallDurationMs = options.slowCallDurationMs ?? 10_000;
    if (!(this.slowCallDurationMs > 0)) {
      throw new RangeError(`slowCallDurationMs must be a number of milliseconds above 0, got ${this.slowCallDurationMs}`);
    }
    const halfOpen = options.halfOpen ?? 'first-failure';
    if (!halfOpenModes.includes(halfOpen)) throw new RangeError(`halfOpen must be 'first-failure' or 'evaluate', got ${String(halfOpen)}`);
    const wait = typeof options.openWait === 'number' ? { initialMs: options.openWait } : (options.openWait ?? {});
    const initialMs = wait.initialMs ?? 30_000;
    const probes = options.halfOpenProbes ?? 3;
    if (!Number.isInteger(probes) || probes < 1) throw new RangeError(`halfOpenProbes must be an integer ≥ 1, got ${probes}`);

    this.since = this.clock.now();
    // A breaker that reports (to a process's inspector) shows in the state gauge from its start, not its first trip.
    if (this.inspector !== undefined) setBreakerState(this.source, this.name, 'closed');
    this.actor = createActor(circuitBreakerMachine, {
      clock: this.clock,
      input: {
        window: this.windowDescription,
        thresholds: {
          minimumCalls: this.minimumCalls,
          failureRateThreshold: this.failureRateThreshold,
          slowCallRateThreshold: this.slowCallRateThreshold,
          slowCallDurationMs: this.slowCallDurationMs,
        },
        probes,
        halfOpen,
        wait: { initialMs, multiplier: wait.multiplier ?? 1, maxMs: wait.maxMs ?? Math.max(initialMs, 10 * initialMs) },
      },
    });
    this.actor.subscribe((snapshot) => {
      const to = snapshot.value;
      if (to !== this.mirror) this.transitioned(this.mirror, to, snapshot.context.reason, snapshot.context.evidence);
    });
    this.actor.start();
    if (options.shared === true) {
      if (options.store === undefined) {
        throw new TypeError(`breaker "${this.name}": shared: true needs a store (createBreakerStore({ url, prefix })) to share its state through`);
      }
      const { context } = this.actor.getSnapshot();
      this.sharing = new SharedBreaker(this.sharedHost(), options.store, {
        window: windowConfig,
        windowDescription: this.windowDescription,
        thresholds: context.thresholds,
        probes,
        halfOpen,
        wait: context.wait,
      });
    }
  }

  /** The machine's current state. */
  get state(): BreakerState {
    return this.actor.getSnapshot().value;
  }

  /**
   * Runs `operation` if the breaker lets it through, recording how it went. Rejected calls throw `CircuitOpenError`
   * without calling `operation`.
   *
   * @example
   * try {
   *   return await breaker.execute((signal) => fetch(url, { signal }), request.signal);
   * } catch (error) {
   *   if (error instanceof CircuitOpenError) return new Response(null, { status: 503 });
   *   throw error;
   * }
   */
  async execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    if (this.mirror !== 'closed') return this.executeNotClosed(operation, signal);
    const epoch = this.epoch;
    const version = this.sharing === undefined ? 0 : this.sharing.version;
    const startedAt = this.clock.now();
    let value: T;
    try {
      value = await operation(signal);
    } catch (error) {
      if (epoch === this.epoch) this.recordClosed(startedAt, this.outcomeBits(error, signal), version);
      throw error;
    }
    if (epoch === this.epoch) this.recordClosed(startedAt, 0, version);
    return value;
  }

  /**
   * Holds the breaker open until `reset()`: every call is rejected.
   *
   * @example
   * breaker.forceOpen('provider maintenance until 14:00');
   */
  forceOpen(note?: string): void {
    this.actor.send({ type: 'operator.forceOpen', note });
    this.sharing?.move('forcedOpen', { kind: 'operator', action: 'forceOpen', note });
  }

  /**
   * Switches the breaker off until `reset()`: every call passes and nothing is recorded.
   *
   * @example
   * breaker.disable('debugging the provider');
   */
  disable(note?: string): void {
    this.actor.send({ type: 'operator.disable', note });
    this.sharing?.move('disabled', { kind: 'operator', action: 'disable', note });
  }

  /**
   * Closes the breaker with an empty window, whatever state it is in.
   *
   * @example
   * breaker.reset();
   */
  reset(note?: string): void {
    if (this.mirror === 'closed') this.window.reset();
    else this.actor.send({ type: 'operator.reset', note });
    this.sharing?.move('closed', { kind: 'operator', action: 'reset', note });
  }

  /**
   * Calls `listener` with every transition and every rejected call; returns the unsubscribe function.
   *
   * @example
   * const stop = breaker.subscribe((event) => console.log(event.type, event.type === 'breaker.transition' ? event.reason : ''));
   */
  subscribe(listener: (event: BreakerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Everything the panel shows about the breaker, read from the machine and the window right now.
   *
   * @example
   * const { state, reason, window, lastTrips } = breaker.stats();
   */
  stats(): BreakerStats {
    const { context } = this.actor.getSnapshot();
    const state = this.state;
    return {
      name: this.name,
      state,
      reason: context.reason,
      since: this.since,
      retryAfterMs: state === 'open' || state === 'forcedOpen' || state === 'halfOpen' ? this.retryAfterMs() : undefined,
      window: { ...this.window.stats(this.clock.now()), description: this.windowDescription },
      thresholds: context.thresholds,
      waitMs: context.waitMs,
      trips: context.trips,
      probes: {
        mode: context.halfOpen,
        permitted: context.probes,
        admitted: context.probesAdmitted,
        succeeded: context.probesSucceeded,
        failed: context.probesFailed,
        slow: context.probesSlow,
      },
      rejected: this.rejected,
      lastTrips: [...this.trips],
      transitions: [...this.history],
      ...(this.sharing === undefined
        ? {}
        : {
            sharing: {
              mode: this.sharing.active ? 'shared' : 'local',
              instance: this.sharing.instance,
              version: this.sharing.version,
              window: { ...this.sharing.totals },
            },
          }),
    };
  }

  /** Stops the machine and its timer. The breaker must not be used afterwards. */
  dispose(): void {
    this.sharing?.dispose();
    this.actor.stop();
    this.listeners.clear();
  }

  private recordClosed(startedAt: number, outcome: number, version: number): void {
    if (outcome === IGNORED) return;
    const now = this.clock.now();
    if (now - startedAt >= this.slowCallDurationMs) outcome |= SLOW;
    const window = this.window;
    window.record(outcome, now);
    // Shared: the shared window judges (the local one keeps filling, for when Redis cannot be reached).
    if (this.sharing !== undefined && this.sharing.active) return this.sharing.record(outcome, version, now);
    const calls = window.calls;
    if (
      calls >= this.minimumCalls &&
      ((window.failures / calls) * 100 >= this.failureRateThreshold ||
        (window.slowCalls / calls) * 100 >= this.slowCallRateThreshold)
    ) {
      this.actor.send({
        type: 'window.exceeded',
        at: now,
        evidence: { calls, failures: window.failures, slowCalls: window.slowCalls },
      });
    }
  }

  private outcomeBits(error: unknown, signal: AbortSignal | undefined): number {
    // Our own caller giving up says nothing about the dependency.
    if (signal !== undefined && signal.aborted) return IGNORED;
    const outcome = this.classify(error);
    return outcome === 'failure' ? FAILED : outcome === 'success' ? 0 : IGNORED;
  }

  private async executeNotClosed<T>(operation: Operation<T>, signal: AbortSignal | undefined): Promise<T> {
    if (this.mirror === 'disabled') return operation(signal);
    if (this.mirror !== 'halfOpen') throw this.reject();
    if (this.sharing !== undefined && this.sharing.active) return this.executeSharedProbe(this.sharing, operation, signal);

    // The machine owns the probe permits: ask it, then read its answer back.
    const before = this.actor.getSnapshot().context.probesAdmitted;
    this.actor.send({ type: 'probe.requested' });
    const after = this.actor.getSnapshot();
    if (after.value !== 'halfOpen' || after.context.probesAdmitted !== before + 1) throw this.reject();

    const epoch = this.epoch;
    const startedAt = this.clock.now();
    let value: T;
    try {
      value = await operation(signal);
    } catch (error) {
      if (epoch === this.epoch) {
        const outcome = this.outcomeBits(error, signal);
        if (outcome === IGNORED) this.actor.send({ type: 'probe.released' });
        else if (outcome === FAILED) {
          const at = this.clock.now();
          this.actor.send({ type: 'probe.failed', at, error: describeError(error), slow: at - startedAt >= this.slowCallDurationMs });
        }
        else this.probeSucceeded(startedAt);
      }
      throw error;
    }
    if (epoch === this.epoch) this.probeSucceeded(startedAt);
    return value;
  }

  /** A half-open call of a shared breaker: the permit comes from the shared record, and so does the verdict. */
  private async executeSharedProbe<T>(sharing: SharedBreaker, operation: Operation<T>, signal: AbortSignal | undefined): Promise<T> {
    const permit = await sharing.acquireProbe();
    // Redis did not answer: the breaker is local now and decides itself.
    if (permit === undefined) return this.executeNotClosed(operation, signal);
    if (!permit.granted) {
      // Another instance's probes may have closed it meanwhile.
      if (this.mirror === 'closed' || this.mirror === 'disabled') return this.execute(operation, signal);
      throw this.reject();
    }
    const startedAt = this.clock.now();
    const finish = (outcome: number, error?: unknown): void => {
      if (outcome === IGNORED) return sharing.recordProbe(-1, permit.version, { kind: 'reopen' });
      const durationMs = this.clock.now() - startedAt;
      if (durationMs >= this.slowCallDurationMs) outcome |= SLOW;
      const cause: SharedCause = outcome & FAILED ? { kind: 'reopen', error: describeError(error) } : { kind: 'reopen', durationMs };
      sharing.recordProbe(outcome, permit.version, cause);
    };
    let value: T;
    try {
      value = await operation(signal);
    } catch (error) {
      finish(this.outcomeBits(error, signal), error);
      throw error;
    }
    finish(0);
    return value;
  }

  /** What the shared half may do to this breaker. */
  private sharedHost() {
    return {
      name: this.name,
      source: this.source,
      clock: this.clock,
      current: () => this.mirror,
      adopt: (view: { state: BreakerState; openedAt: number; waitMs: number; trips: number }, reason: string, evidence: { calls: number; failures: number; slowCalls: number } | undefined) =>
        this.actor.send({ type: 'shared.changed', to: view.state, reason, at: this.clock.now(), openedAt: view.openedAt, waitMs: view.waitMs, trips: view.trips, evidence }),
      switched: (mode: 'shared' | 'local', reason: string) =>
        this.emit({ type: 'breaker.sharing', at: this.clock.now(), source: this.source, breaker: this.name, mode, reason }),
    };
  }

  /** A probe that answered, but too slowly, says the dependency has not recovered either. */
  private probeSucceeded(startedAt: number): void {
    const now = this.clock.now();
    const durationMs = now - startedAt;
    if (durationMs >= this.slowCallDurationMs) this.actor.send({ type: 'probe.slow', at: now, durationMs });
    else this.actor.send({ type: 'probe.succeeded', at: now });
  }

  private retryAfterMs(): number {
    const { context } = this.actor.getSnapshot();
    switch (this.mirror) {
      case 'open':
        return Math.max(0, context.openedAt + context.waitMs - this.clock.now());
      // Held open by hand: there is no due time, so suggest the normal wait.
      case 'forcedOpen':
        return context.wait.initialMs;
      default:
        return 0;
    }
  }

  private reject(): CircuitOpenError {
    const state = this.mirror;
    const retryAfterMs = this.retryAfterMs();
    this.rejected++;
    if (this.inspector !== undefined || this.listeners.size > 0) {
      this.emit({
        type: 'breaker.rejected',
        at: this.clock.now(),
        source: this.source,
        breaker: this.name,
        state,
        retryAfterMs,
      });
    }
    if (tracing.on) {
      const span = startSpan(`breaker ${this.name} rejected`, undefined, { attributes: { 'mailroom.breaker': this.name, 'mailroom.breaker.state': state, 'mailroom.retry_after_ms': retryAfterMs } });
      span.setStatus({ code: SpanStatusCode.ERROR, message: `circuit ${state}` });
      span.end();
    }
    return new CircuitOpenError(this.name, state, retryAfterMs);
  }

  private transitioned(
    from: BreakerState,
    to: BreakerState,
    reason: string,
    evidence: { calls: number; failures: number; slowCalls: number } | undefined,
  ): void {
    const at = this.clock.now();
    this.mirror = to;
    this.epoch++;
    this.since = at;
    // A fresh closed period judges only what happens from now on.
    if (to === 'closed') this.window.reset();
    const transition = { from, to, reason, at };
    pushBounded(this.history, transition, this.historySize);
    if (to === 'open' || to === 'forcedOpen') pushBounded(this.trips, transition, 5);

    const event: BreakerTransitionEvent = { type: 'breaker.transition', at, source: this.source, breaker: this.name, from, to, reason };
    if (to === 'open') {
      event.waitMs = this.actor.getSnapshot().context.waitMs;
      if (from === 'closed' && evidence !== undefined && evidence.calls > 0) {
        event.calls = evidence.calls;
        event.failureRate = (evidence.failures / evidence.calls) * 100;
        event.slowCallRate = (evidence.slowCalls / evidence.calls) * 100;
      }
    }
    this.emit(event);
  }

  private emit(event: BreakerEvent): void {
    if (this.inspector !== undefined) notify(this.inspector, event);
    for (const listener of this.listeners) notify(listener, event);
  }
}

/**
 * Creates a circuit breaker (see `CircuitBreakerOptions` for the defaults).
 *
 * @example
 * const breaker = createCircuitBreaker({
 *   name: 'inventory',
 *   window: { kind: 'count', size: 20 },
 *   minimumCalls: 10,
 *   failureRateThreshold: 50,
 *   openWait: { initialMs: 5_000, multiplier: 2, maxMs: 60_000 },
 * });
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}

// A listener's bug must not break the breaker or the other listeners, but it must not vanish either.
function notify<E>(listener: (event: E) => void, event: E): void {
  try {
    listener(event);
  } catch (error) {
    console.error('[resilience] a breaker listener threw:', error);
  }
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function percent(name: string, value: number): number {
  if (!(value > 0 && value <= 100)) throw new RangeError(`${name} must be a percentage above 0 and at most 100, got ${value}`);
  return value;
}
