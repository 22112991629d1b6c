/**
 * The circuit breaker as an XState v5 machine: the single source of truth for a breaker's state and the definition
 * the panel draws. It does not see individual calls — the wrapper in `circuit-breaker.ts` counts those in a sliding
 * window and only sends the events that can change something: a window over its thresholds, probe requests and
 * outcomes in half-open, and operator commands. The open → half-open wait is an `after` delay, so it runs on the
 * clock the actor is created with. Every transition leaves a sentence in `context.reason`.
 *
 * Half-open has two ways to judge its probes, chosen per breaker (`halfOpen` in the input):
 * - `first-failure` (the default): the first probe that fails or is slow reopens the breaker at once; `probes`
 *   successes in a row close it. Quick to give up on a dependency that is still down.
 * - `evaluate` (Resilience4j's): every one of the `probes` permitted calls runs; once all have answered, their
 *   failure rate and slow-call rate are compared with the breaker's thresholds — reaching either reopens it,
 *   otherwise it closes. One unlucky probe does not keep a mostly recovered dependency cut off.
 *
 * A shared breaker (`shared: true`) takes its state from Redis: `shared.changed` moves it to whatever state the
 * breaker's shared record holds, with that record's reason, from any state (see `shared-breaker.ts`).
 */

import { and, assign, not, setup, stateIn } from 'xstate';
import type { BreakerState } from '../inspection.ts';
import {
  closedReason,
  createdReason,
  evaluatedReason,
  halfOpenReason,
  operatorReason,
  reopenedReason,
  tripReason,
  type ProbeTally,
  type TripEvidence,
  type TripThresholds,
} from './reasons.ts';

/** How half-open judges its probes (see the file's header). */
export type HalfOpenMode = 'first-failure' | 'evaluate';
export const halfOpenModes: readonly HalfOpenMode[] = ['first-failure', 'evaluate'];

/** How long the breaker stays open: `initialMs`, times `multiplier` for every further trip without a close. */
export type OpenWait = { initialMs: number; multiplier: number; maxMs: number };

export type BreakerMachineInput = {
  /** The window in words, the tail of a trip reason ("within 10 s"). */
  window: string;
  thresholds: TripThresholds;
  /** Probe calls let through in half-open; this many successes close the breaker. */
  probes: number;
  /** Default `first-failure`. */
  halfOpen?: HalfOpenMode;
  wait: OpenWait;
};

export type BreakerContext = BreakerMachineInput & {
  halfOpen: HalfOpenMode;
  reason: string;
  /** Trips since the breaker last closed; grows the wait when `wait.multiplier > 1`. */
  trips: number;
  /** The wait of the current (or last) open period. */
  waitMs: number;
  /** How long after entering `open` the wait ends: `waitMs`, or less when a shared breaker adopts an open period. */
  dueInMs: number;
  openedAt: number;
  probesAdmitted: number;
  probesSucceeded: number;
  /** Probes of this half-open period that failed, and that were slow (a failed probe can be both). */
  probesFailed: number;
  probesSlow: number;
  /** The window's counts when it last tripped. */
  evidence: TripEvidence | undefined;
};

export type BreakerMachineEvent =
  | { type: 'window.exceeded'; at: number; evidence: TripEvidence }
  | { type: 'probe.requested' }
  | { type: 'probe.succeeded'; at?: number }
  | { type: 'probe.failed'; at: number; error: string; slow?: boolean }
  | { type: 'probe.slow'; at: number; durationMs: number }
  | { type: 'probe.released' }
  | {
      type: 'shared.changed';
      to: BreakerState;
      reason: string;
      at: number;
      openedAt: number;
      waitMs: number;
      trips: number;
      evidence?: TripEvidence;
    }
  | { type: 'operator.forceOpen'; note?: string }
  | { type: 'operator.disable'; note?: string }
  | { type: 'operator.reset'; note?: string };

/**
 * The wait after the `trips`-th consecutive trip.
 *
 * @example
 * openWaitFor({ initialMs: 1_000, multiplier: 2, maxMs: 3_000 }, 3); // 3000 (4000 capped)
 */
export function openWaitFor(wait: OpenWait, trips: number): number {
  return Math.min(wait.maxMs, wait.initialMs * wait.multiplier ** Math.max(0, trips - 1));
}

/**
 * The breaker machine. Create one actor per breaker with its input and the breaker's clock.
 *
 * @example
 * const actor = createActor(circuitBreakerMachine, {
 *   clock,
 *   input: {
 *     window: 'within 10 s',
 *     thresholds: { minimumCalls: 10, failureRateThreshold: 50, slowCallRateThreshold: 100, slowCallDurationMs: 5_000 },
 *     probes: 3,
 *     wait: { initialMs: 30_000, multiplier: 1, maxMs: 30_000 },
 *   },
 * }).start();
 * actor.send({ type: 'operator.forceOpen' });
 * actor.getSnapshot().value; // 'forcedOpen'
 */
export const circuitBreakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    events: {} as BreakerMachineEvent,
    input: {} as BreakerMachineInput,
  },
  guards: {
    // The wrapper only sends this when its own check says so; judging again here keeps the machine honest on its
    // own (an event with counts under the thresholds is ignored).
    windowOverThreshold: ({ context, event }) =>
      event.type === 'window.exceeded' && tripReason(event.evidence, context.thresholds, context.window) !== undefined,
    probePermitFree: ({ context }) => context.probesAdmitted < context.probes,
    sharedTo: ({ event }, params: { state: BreakerState }) => event.type === 'shared.changed' && event.to === params.state,
    lastProbeNeeded: ({ context }) => context.probesSucceeded + 1 >= context.probes,
    evaluating: ({ context }) => context.halfOpen === 'evaluate',
    // Every probe permitted has answered once this one is counted.
    lastProbeAnswered: ({ context }) => probesAnswered(context) + 1 >= context.probes,
    probesOverThreshold: ({ context, event }) => evaluatedReason(tallyWith(context, event), context.thresholds).reopen,
  },
  delays: {
    openWait: ({ context }) => context.dueInMs,
  },
  actions: {
    trip: assign(({ context, event }) => {
      if (event.type !== 'window.exceeded') return {};
      const trips = context.trips + 1;
      return {
        reason: tripReason(event.evidence, context.thresholds, context.window) ?? 'opened',
        trips,
        waitMs: openWaitFor(context.wait, trips),
        dueInMs: openWaitFor(context.wait, trips),
        openedAt: event.at,
        evidence: event.evidence,
      };
    }),
    reopen: assign(({ context, event }) => {
      if (event.type !== 'probe.failed' && event.type !== 'probe.slow') return {};
      const trips = context.trips + 1;
      return {
        reason:
          event.type === 'probe.failed'
            ? reopenedReason({ error: event.error })
            : reopenedReason({ durationMs: event.durationMs, slowCallDurationMs: context.thresholds.slowCallDurationMs }),
        trips,
        waitMs: openWaitFor(context.wait, trips),
        dueInMs: openWaitFor(context.wait, trips),
        openedAt: event.at,
      };
    }),
    reopenByEvaluation: assign(({ context, event }) => {
      const trips = context.trips + 1;
      return {
        reason: evaluatedReason(tallyWith(context, event), context.thresholds).reason,
        trips,
        waitMs: openWaitFor(context.wait, trips),
        dueInMs: openWaitFor(context.wait, trips),
        openedAt: 'at' in event ? event.at : context.openedAt,
      };
    }),
    closeByEvaluation: assign(({ context, event }) => ({ reason: evaluatedReason(tallyWith(context, event), context.thresholds).reason, trips: 0 })),
    adopt: assign(({ context, event }) => {
      if (event.type !== 'shared.changed') return {};
      return {
        reason: event.reason,
        trips: event.trips,
        waitMs: event.waitMs,
        dueInMs: Math.max(0, event.openedAt + event.waitMs - event.at),
        openedAt: event.openedAt,
        evidence: event.evidence ?? context.evidence,
      };
    }),
    noteWaitElapsed: assign(({ context }) => ({ reason: halfOpenReason(context.waitMs) })),
    clearProbes: assign({ probesAdmitted: 0, probesSucceeded: 0, probesFailed: 0, probesSlow: 0 }),
    admitProbe: assign(({ context }) => ({ probesAdmitted: context.probesAdmitted + 1 })),
    releaseProbe: assign(({ context }) => ({ probesAdmitted: Math.max(0, context.probesAdmitted - 1) })),
    countProbe: assign(({ context, event }) => {
      const tally = tallyWith(context, event);
      return { probesSucceeded: tally.probes - tally.failed, probesFailed: tally.failed, probesSlow: tally.slow };
    }),
    close: assign(({ context }) => ({ reason: closedReason(context.probes), trips: 0 })),
    forceOpen: assign(({ event }) => ({ reason: operatorReason('forceOpen', noteOf(event)) })),
    disable: assign(({ event }) => ({ reason: operatorReason('disable', noteOf(event)) })),
    reset: assign(({ event }) => ({ reason: operatorReason('reset', noteOf(event)), trips: 0 })),
  },
}).createMachine({
  id: 'circuitBreaker',
  context: ({ input }) => ({
    ...input,
    reason: createdReason,
    trips: 0,
    waitMs: input.wait.initialMs,
    dueInMs: input.wait.initialMs,
    openedAt: 0,
    halfOpen: input.halfOpen ?? 'first-failure',
    probesAdmitted: 0,
    probesSucceeded: 0,
    probesFailed: 0,
    probesSlow: 0,
    evidence: undefined,
  }),
  initial: 'closed',
  // Operator commands apply from any other state.
  on: {
    'shared.changed': [
      { guard: { type: 'sharedTo', params: { state: 'closed' } }, target: '.closed', actions: 'adopt' },
      // Re-entered when already open, so a newer open period re-arms the wait.
      { guard: { type: 'sharedTo', params: { state: 'open' } }, target: '.open', reenter: true, actions: 'adopt' },
      { guard: { type: 'sharedTo', params: { state: 'halfOpen' } }, target: '.halfOpen', actions: 'adopt' },
      { guard: { type: 'sharedTo', params: { state: 'forcedOpen' } }, target: '.forcedOpen', actions: 'adopt' },
      { guard: { type: 'sharedTo', params: { state: 'disabled' } }, target: '.disabled', actions: 'adopt' },
    ],
    'operator.forceOpen': { guard: not(stateIn('forcedOpen')), target: '.forcedOpen', actions: 'forceOpen' },
    'operator.disable': { guard: not(stateIn('disabled')), target: '.disabled', actions: 'disable' },
    'operator.reset': { guard: not(stateIn('closed')), target: '.closed', actions: 'reset' },
  },
  states: {
    closed: {
      description: 'Calls pass; their outcomes fill the sliding window.',
      on: { 'window.exceeded': { guard: 'windowOverThreshold', target: 'open', actions: 'trip' } },
    },
    open: {
      description: 'Calls are rejected with CircuitOpenError until the wait elapses.',
      after: { openWait: { target: 'halfOpen', actions: 'noteWaitElapsed' } },
    },
    halfOpen: {
      description:
        'A bounded number of probe calls pass. first-failure: one failed or slow probe reopens, all succeeding closes. ' +
        'evaluate: once every probe has answered, their failure and slow-call rates against the thresholds decide.',
      entry: 'clearProbes',
      on: {
        'probe.requested': { guard: 'probePermitFree', actions: 'admitProbe' },
        'probe.succeeded': [
          { guard: and([not('evaluating'), 'lastProbeNeeded']), target: 'closed', actions: 'close' },
          { guard: and(['evaluating', 'lastProbeAnswered', 'probesOverThreshold']), target: 'open', actions: 'reopenByEvaluation' },
          { guard: and(['evaluating', 'lastProbeAnswered']), target: 'closed', actions: 'closeByEvaluation' },
          { actions: 'countProbe' },
        ],
        'probe.failed': [
          { guard: not('evaluating'), target: 'open', actions: 'reopen' },
          { guard: and(['lastProbeAnswered', 'probesOverThreshold']), target: 'open', actions: 'reopenByEvaluation' },
          { guard: 'lastProbeAnswered', target: 'closed', actions: 'closeByEvaluation' },
          { actions: 'countProbe' },
        ],
        'probe.slow': [
          { guard: not('evaluating'), target: 'open', actions: 'reopen' },
          { guard: and(['lastProbeAnswered', 'probesOverThreshold']), target: 'open', actions: 'reopenByEvaluation' },
          { guard: 'lastProbeAnswered', target: 'closed', actions: 'closeByEvaluation' },
          { actions: 'countProbe' },
        ],
        'probe.released': { actions: 'releaseProbe' },
      },
    },
    forcedOpen: { description: 'Held open by an operator: every call is rejected.' },
    disabled: { description: 'Switched off by an operator: every call passes and nothing is recorded.' },
  },
});

function probesAnswered(context: BreakerContext): number {
  return context.probesSucceeded + context.probesFailed;
}

/** The probes of this half-open period with the one `event` reports counted in. */
function tallyWith(context: BreakerContext, event: BreakerMachineEvent): ProbeTally {
  const failed = event.type === 'probe.failed';
  const slow = event.type === 'probe.slow' || (failed && event.slow === true);
  const answered = event.type === 'probe.succeeded' || failed || event.type === 'probe.slow';
  return {
    probes: probesAnswered(context) + (answered ? 1 : 0),
    failed: context.probesFailed + (failed ? 1 : 0),
    slow: context.probesSlow + (slow ? 1 : 0),
  };
}

function noteOf(event: BreakerMachineEvent): string | undefined {
  return 'note' in event ? event.note : undefined;
}

/** Every state of the machine, in the order the panel lists them. */
export const breakerStates: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled'];
