import { describe, expect, it } from 'bun:test';
import {
  closedReason,
  describeWindow,
  formatDuration,
  formatPercent,
  halfOpenReason,
  operatorReason,
  reopenedReason,
  tripReason,
} from '../../runtime/resilience/reasons.ts';

const thresholds = { minimumCalls: 10, failureRateThreshold: 50, slowCallRateThreshold: 80, slowCallDurationMs: 2_000 };

describe('reasons', () => {
  it('should say durations and rates the way a person reads them', () => {
    expect([formatDuration(800), formatDuration(1_000), formatDuration(1_500), formatDuration(30_000), formatDuration(90_000)]).toEqual([
      '800 ms',
      '1 s',
      '1.5 s',
      '30 s',
      '90 s',
    ]);
    expect([formatPercent(60), formatPercent((2 / 3) * 100), formatPercent(100)]).toEqual(['60%', '66.7%', '100%']);
    expect(describeWindow({ kind: 'time', ms: 10_000 })).toBe('within 10 s');
    expect(describeWindow({ kind: 'count', size: 100 })).toBe('within the last 100 calls');
  });

  it('should name the failures when the failure rate trips the breaker', () => {
    expect(tripReason({ calls: 20, failures: 12, slowCalls: 20 }, thresholds, 'within 10 s')).toBe(
      'opened: 12 of 20 calls failed (60%) ≥ 50% within 10 s',
    );
  });

  it('should name the slow calls when only the slow-call rate trips it', () => {
    expect(tripReason({ calls: 10, failures: 1, slowCalls: 9 }, thresholds, 'within 10 s')).toBe(
      'opened: 9 of 10 calls took ≥ 2 s (90%) ≥ 80% within 10 s',
    );
  });

  it('should give no reason below the minimum number of calls or under both thresholds', () => {
    expect(tripReason({ calls: 9, failures: 9, slowCalls: 9 }, thresholds, 'within 10 s')).toBeUndefined();
    expect(tripReason({ calls: 10, failures: 4, slowCalls: 7 }, thresholds, 'within 10 s')).toBeUndefined();
    expect(tripReason({ calls: 0, failures: 0, slowCalls: 0 }, { ...thresholds, minimumCalls: 0 }, 'within 10 s')).toBeUndefined();
  });

  it('should word every other transition', () => {
    expect(halfOpenReason(30_000)).toBe('half-open: 30 s elapsed');
    expect(closedReason(3)).toBe('closed: 3 of 3 probes succeeded');
    expect(reopenedReason({ error: 'TimeoutError: attempt timed out after 2000 ms' })).toBe(
      'reopened: probe failed (TimeoutError: attempt timed out after 2000 ms)',
    );
    expect(reopenedReason({ durationMs: 3_200, slowCallDurationMs: 2_000 })).toBe('reopened: probe took 3.2 s ≥ 2 s');
    expect(operatorReason('forceOpen')).toBe('forced open by operator');
    expect(operatorReason('disable', 'load test')).toBe('disabled by operator: load test');
    expect(operatorReason('reset')).toBe('closed: reset by operator');
  });
});
