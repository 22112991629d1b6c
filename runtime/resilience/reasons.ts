/**
 * The sentences a person reads in the panel when a breaker changes state ("opened: 12 of 20 calls failed (60%) ≥ 50%
 * within 10 s"). They are built here, in one place, from numbers the machine already holds, so the wording stays
 * consistent and every sentence is checked by a test.
 */

/**
 * A duration as a person says it: `800 ms`, `1.5 s`, `30 s`.
 *
 * @example
 * formatDuration(30_000); // '30 s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${trimmed(ms / 1000)} s`;
}

/**
 * A rate in percent with at most one decimal: `60%`, `33.3%`.
 *
 * @example
 * formatPercent(2 / 3 * 100); // '66.7%'
 */
export function formatPercent(percent: number): string {
  return `${trimmed(percent)}%`;
}

function trimmed(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/**
 * What a sliding window is, in words: the tail of a trip reason.
 *
 * @example
 * describeWindow({ kind: 'count', size: 100 }); // 'within the last 100 calls'
 */
export function describeWindow(window: { kind: 'count'; size: number } | { kind: 'time'; ms: number }): string {
  return window.kind === 'time' ? `within ${formatDuration(window.ms)}` : `within the last ${window.size} calls`;
}

/** The counts a trip is judged on. */
export type TripEvidence = { calls: number; failures: number; slowCalls: number };

/** The thresholds a trip is judged against (rates in percent). */
export type TripThresholds = {
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallRateThreshold: number;
  slowCallDurationMs: number;
};

/**
 * Why a closed breaker must open, or `undefined` if it must not. The failure rate is judged before the slow-call
 * rate, so when both are over their thresholds the reason names the failures (the stronger signal).
 *
 * @example
 * tripReason({ calls: 20, failures: 12, slowCalls: 0 }, thresholds, 'within 10 s');
 * // 'opened: 12 of 20 calls failed (60%) ≥ 50% within 10 s'
 */
export function tripReason(evidence: TripEvidence, thresholds: TripThresholds, window: string): string | undefined {
  const { calls, failures, slowCalls } = evidence;
  if (calls === 0 || calls < thresholds.minimumCalls) return undefined;
  const failureRate = (failures / calls) * 100;
  if (failureRate >= thresholds.failureRateThreshold) {
    return `opened: ${failures} of ${calls} calls failed (${formatPercent(failureRate)}) ≥ ${formatPercent(thresholds.failureRateThreshold)} ${window}`;
  }
  const slowCallRate = (slowCalls / calls) * 100;
  if (slowCallRate >= thresholds.slowCallRateThreshold) {
    return `opened: ${slowCalls} of ${calls} calls took ≥ ${formatDuration(thresholds.slowCallDurationMs)} (${formatPercent(slowCallRate)}) ≥ ${formatPercent(thresholds.slowCallRateThreshold)} ${window}`;
  }
  return undefined;
}

/**
 * Why an open breaker lets probes through.
 *
 * @example
 * halfOpenReason(30_000); // 'half-open: 30 s elapsed'
 */
export function halfOpenReason(waitMs: number): string {
  return `half-open: ${formatDuration(waitMs)} elapsed`;
}

/**
 * Why a half-open breaker closed.
 *
 * @example
 * closedReason(3); // 'closed: 3 of 3 probes succeeded'
 */
export function closedReason(probes: number): string {
  return `closed: ${probes} of ${probes} probes succeeded`;
}

/**
 * Why a half-open breaker opened again: a probe failed, or answered no faster than a slow call.
 *
 * @example
 * reopenedReason({ error: 'Error: still down' }); // 'reopened: probe failed (Error: still down)'
 * reopenedReason({ durationMs: 3_200, slowCallDurationMs: 2_000 }); // 'reopened: probe took 3.2 s ≥ 2 s'
 */
export function reopenedReason(probe: { error: string } | { durationMs: number; slowCallDurationMs: number }): string {
  return 'error' in probe
    ? `reopened: probe failed (${probe.error})`
    : `reopened: probe took ${formatDuration(probe.durationMs)} ≥ ${formatDuration(probe.slowCallDurationMs)}`;
}

/**
 * Why a person moved the breaker, with their note if they left one.
 *
 * @example
 * operatorReason('forceOpen'); // 'forced open by operator'
 * operatorReason('disable', 'load test'); // 'disabled by operator: load test'
 * operatorReason('reset'); // 'closed: reset by operator'
 */
export function operatorReason(action: 'forceOpen' | 'disable' | 'reset', note?: string): string {
  const sentence =
    action === 'forceOpen' ? 'forced open by operator' : action === 'disable' ? 'disabled by operator' : 'closed: reset by operator';
  return note ? `${sentence}: ${note}` : sentence;
}

/** The reason a new breaker reports before its first transition. */
export const createdReason = 'closed: created';

/** What the probes of one half-open period did (`evaluate` mode judges them together). */
export type ProbeTally = { probes: number; failed: number; slow: number };

/**
 * The verdict of Resilience4j-style half-open evaluation once every probe has answered: reopen if their failure or
 * slow-call rate reaches its threshold (the failures named first, as in `tripReason`), close otherwise.
 *
 * @example
 * evaluatedReason({ probes: 4, failed: 2, slow: 0 }, thresholds); // 'reopened: 2 of 4 probes failed (50%) ≥ 50%'
 * evaluatedReason({ probes: 4, failed: 1, slow: 0 }, thresholds);
 * // 'closed: 1 of 4 probes failed (25%) < 50%, 0 took ≥ 10 s (0%) < 100%'
 */
export function evaluatedReason(tally: ProbeTally, thresholds: TripThresholds): { reopen: boolean; reason: string } {
  const { probes, failed, slow } = tally;
  const failureRate = (failed / probes) * 100;
  const slowCallRate = (slow / probes) * 100;
  const slowWords = `took ≥ ${formatDuration(thresholds.slowCallDurationMs)}`;
  if (failureRate >= thresholds.failureRateThreshold) {
    return { reopen: true, reason: `reopened: ${failed} of ${probes} probes failed (${formatPercent(failureRate)}) ≥ ${formatPercent(thresholds.failureRateThreshold)}` };
  }
  if (slowCallRate >= thresholds.slowCallRateThreshold) {
    return { reopen: true, reason: `reopened: ${slow} of ${probes} probes ${slowWords} (${formatPercent(slowCallRate)}) ≥ ${formatPercent(thresholds.slowCallRateThreshold)}` };
  }
  return {
    reopen: false,
    reason:
      `closed: ${failed} of ${probes} probes failed (${formatPercent(failureRate)}) < ${formatPercent(thresholds.failureRateThreshold)}, ` +
      `${slow} ${slowWords} (${formatPercent(slowCallRate)}) < ${formatPercent(thresholds.slowCallRateThreshold)}`,
  };
}
