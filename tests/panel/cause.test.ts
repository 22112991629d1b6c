import { describe, expect, it } from 'bun:test';
import type { LiveEvent } from '../../panel/src/lib/api/types.ts';
import { findCause } from '../../panel/src/lib/models/cause.ts';

const T = 1_000_000;
const rule = (at: number, id: string): LiveEvent => ({ id: `${at}-0/0`, type: 'chaos.rule', at: T + at, source: 'control', rule: id, kind: 'error', target: '→ provider', detail: 'added' });
const trip = (at: number, source = 'payment', breaker = 'provider'): LiveEvent => ({
  id: `${at}-0/1`,
  type: 'breaker.transition',
  at: T + at,
  source,
  breaker,
  from: 'closed',
  to: 'open',
  reason: 'opened: 5 of 6 calls failed (83.3%) ≥ 50% within 10 s',
});

describe('findCause', () => {
  it('should link a failure that names a chaos rule to that rule', () => {
    const cause = findCause({ at: T + 5_000, reason: 'injected fault (chaos rule r-2)' }, [rule(0, 'r-1'), rule(1_000, 'r-2'), trip(3_000)]);
    expect(cause).toMatchObject({ kind: 'chaos', ruleId: 'r-2' });
  });

  it('should link a failure that names an open breaker to the trip of that breaker', () => {
    const cause = findCause({ at: T + 5_000, reason: 'payment provider unavailable: circuit open, retry in 2 s' }, [rule(0, 'r-1'), trip(3_000, 'gateway', 'order'), trip(4_000)]);
    expect(cause).toMatchObject({ kind: 'breaker', process: 'payment', breaker: 'provider', at: T + 4_000 });
  });

  it('should fall back to the nearest fault before the failure, and find none too far away', () => {
    expect(findCause({ at: T + 5_000, reason: 'timed out' }, [rule(1_000, 'r-1')])).toMatchObject({ kind: 'chaos', ruleId: 'r-1' });
    expect(findCause({ at: T + 500_000, reason: 'timed out' }, [rule(1_000, 'r-1')])).toBeNull();
    expect(findCause({ at: T + 5_000 }, [])).toBeNull();
  });
});
