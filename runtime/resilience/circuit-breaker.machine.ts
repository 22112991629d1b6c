/**
 * The circuit breaker as an XState v5 machine: the single source of truth for a breaker's state and the definition
 * the panel draws. It does not see individual calls — the wrapper in `circuit-breaker.ts` counts those in a sliding
 * window and only sends the events that can change something: a window over its thresholds, probe requests and
 * outcomes in half-open, and operator commands. The open → half-open wait is an `after` delay, so it runs on the
 * clock the actor is created with. Every transition leaves a sentence in `context.reason`.
 */

import { assign, not, setup, stateIn } from 'xstate';
import type { BreakerState } from '../inspection.ts';
import {
  closedReason,
  createdReason,
  halfOpenReason,
  operatorReason,
  reopenedReason,
  tripReason,
  type TripEvidence,
  type TripThresholds,
} from './reasons.ts';

/** How long the breaker stays open: `initialMs`, times `multiplier` for every further trip without a close. */
export type OpenWait = { initialMs: number; multiplier: number; maxMs: number };

export type BreakerMachineInput = {
  /** The window in words, the tail of a trip reason ("within 10 s"). */
  window: string;
  thresholds: TripThresholds;
  /** Probe calls let through in half-open; this many successes close the breaker. */
  probes: number;
  wait: OpenWait;
};

export type BreakerContext = BreakerMachineInput & {
  reason: string;
  /** Trips since the breaker last closed; grows the wait when `wait.multiplier > 1`. */
  trips: number;
  /** The wait of the current (or last) open period. */
  waitMs: number;
  openedAt: number;
  probesAdmitted: number;
  probesSucceeded: number;
  /** The window's counts when it last tripped. */
  evidence: TripEvidence | undefined;
};

export type BreakerMachineEvent =
  | { type: 'window.exceeded'; at: number; evidence: TripEvidence }
  | { type: 'probe.requested' }
  | { type: 'probe.succeeded' }
  | { type: 'probe.failed'; at: number; error: string }
  | { type: 'probe.slow'; at: number; durationMs: number }
  | { type: 'probe.released' }
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
    lastProbeNeeded: ({ context }) => context.probesSucceeded + 1 >= context.probes,
  },
  delays: {
    openWait: ({ context }) => context.waitMs,
  },
  actions: {
    trip: assign(({ context, event }) => {
      if (event.type !== 'window.exceeded') return {};
      const trips = context.trips + 1;
      return {
        reason: tripReason(event.evidence, context.thresholds, context.window) ?? 'opened',
        trips,
        waitMs: openWaitFor(context.wait, trips),
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
        openedAt: event.at,
      };
    }),
    noteWaitElapsed: assign(({ context }) => ({ reason: halfOpenReason(context.waitMs) })),
    clearProbes: assign({ probesAdmitted: 0, probesSucceeded: 0 }),
    admitProbe: assign(({ context }) => ({ probesAdmitted: context.probesAdmitted + 1 })),
    releaseProbe: assign(({ context }) => ({ probesAdmitted: Math.max(0, context.probesAdmitted - 1) })),
    countProbeSuccess: assign(({ context }) => ({ probesSucceeded: context.probesSucceeded + 1 })),
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
    openedAt: 0,
    probesAdmitted: 0,
    probesSucceeded: 0,
    evidence: undefined,
  }),
  initial: 'closed',
  // Operator commands apply from any other state.
  on: {
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
      description: 'A bounded number of probe calls pass; one failure reopens, all succeeding closes.',
      entry: 'clearProbes',
      on: {
        'probe.requested': { guard: 'probePermitFree', actions: 'admitProbe' },
        'probe.succeeded': [{ guard: 'lastProbeNeeded', target: 'closed', actions: 'close' }, { actions: 'countProbeSuccess' }],
        'probe.failed': { target: 'open', actions: 'reopen' },
        'probe.slow': { target: 'open', actions: 'reopen' },
        'probe.released': { actions: 'releaseProbe' },
      },
    },
    forcedOpen: { description: 'Held open by an operator: every call is rejected.' },
    disabled: { description: 'Switched off by an operator: every call passes and nothing is recorded.' },
  },
});

function noteOf(event: BreakerMachineEvent): string | undefined {
  return 'note' in event ? event.note : undefined;
}

/** Every state of the machine, in the order the panel lists them. */
export const breakerStates: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled'];
