/**
 * The in-flight limit's rules on a simulated clock: it refuses once full and a release frees a place; it shrinks
 * when the work it let in ends too slowly while it was pressed — once per slow burst, not once per window while that
 * burst drains — and grows back while work ends in time; slowness while little is in flight leaves it alone; work
 * whose end is never heard of is let go; nothing is counted before it is enforced.
 */
import { describe, expect, it } from 'bun:test';
import { AdmissionRefusedError, InFlightLimit, type Clock, type InFlightLimitOptions } from '../../runtime/index.ts';

/** A clock that moves only when told (the limit reads `now()` and sets no timers). */
function manualClock() {
  let t = 1_000_000;
  const clock: Clock = { now: () => t, setTimeout: () => ({ id: 0 }), clearTimeout: () => {} };
  return { clock, advance: (ms: number) => void (t += ms) };
}

function limitOf(options: Partial<InFlightLimitOptions> = {}) {
  const { clock, advance } = manualClock();
  const limit = new InFlightLimit({ service: 'order', targetMs: 100, initial: 10, min: 4, max: 40, windowMs: 250, clock, ...options });
  return { limit, advance };
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `w-${from + i}`);

/** Admits every id (none may be refused). */
const admitAll = (limit: InFlightLimit, list: string[]) => list.forEach((id) => expect(limit.admit(id)).toBe(true));

describe('in-flight limit', () => {
  it('should refuse with 429 OVERLOADED (in-flight) once full, and admit again once a place is free', () => {
    const { limit } = limitOf({ initial: 3, min: 1 });
    admitAll(limit, ids(0, 3));
    expect(limit.admit('w-1')).toBe(false); // a repeat of work in flight changes nothing
    let refusal: unknown;
    try {
      limit.admit('w-3');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AdmissionRefusedError);
    const error = refusal as AdmissionRefusedError;
    expect(error.status).toBe(429);
    expect(error.code).toBe('OVERLOADED');
    expect(error.retryAfterMs).toBe(1_000);
    expect(error.message).toContain('order is overloaded: 3 of the work sent to it is still in flight');
    expect(error.message).toContain('nothing was done');
    expect(error.details).toMatchObject({ service: 'order', reason: 'in-flight', inFlight: 3, limit: 3, targetMs: 100 });

    limit.release('w-0');
    limit.release('unknown'); // admitted elsewhere: ignored
    expect(limit.size).toBe(2);
    expect(limit.admit('w-3')).toBe(true);
  });

  it('should shrink once when pressed work ends too slowly, not again for the rest of that slow burst', () => {
    const { limit, advance } = limitOf({ initial: 20 });
    admitAll(limit, ids(0, 20));
    advance(300);
    for (const id of ids(0, 10)) limit.release(id); // 300 ms each, the target is 100
    expect(limit.limit).toBe(17);
    // The rest of that burst ends even later: it was admitted under the old limit and does not judge the new one.
    advance(300);
    for (const id of ids(10, 10)) limit.release(id);
    advance(300);
    admitAll(limit, ids(20, 1));
    expect(limit.limit).toBe(17);
  });

  it('should grow while pressed work ends within the target, faster when far within it', () => {
    const { limit, advance } = limitOf({ initial: 10 });
    const round = (latencyMs: number, from: number) => {
      admitAll(limit, ids(from, limit.limit));
      advance(latencyMs);
      for (const id of ids(from, 10)) limit.release(id);
      advance(300 - latencyMs);
      for (const id of ids(from + 10, 100)) limit.release(id);
      admitAll(limit, ['probe-' + from]);
      limit.release('probe-' + from, { timed: false });
    };
    round(80, 0); // p90 80 ms: within 100, not under half of it
    expect(limit.limit).toBe(11);
    round(30, 100); // under half the target
    expect(limit.limit).toBe(14);
  });

  it('should stay put when work is slow while little of the limit is in use (a slow dependency, not too much work)', () => {
    const { limit, advance } = limitOf({ initial: 20 });
    for (let round = 0; round < 5; round++) {
      const batch = ids(round * 10, 6);
      admitAll(limit, batch);
      advance(400);
      for (const id of batch) limit.release(id);
    }
    expect(limit.limit).toBe(20);
  });

  it('should let go of work whose end is never heard of, counting it as slow', () => {
    const { limit, advance } = limitOf({ initial: 8, expireMs: 1_000 });
    admitAll(limit, ids(0, 8));
    expect(() => limit.admit('late')).toThrow(AdmissionRefusedError);
    advance(1_001);
    expect(limit.admit('late')).toBe(true);
    expect(limit.size).toBe(1);
    // The eight let go counted as ends at 1 s, with all eight places in use: the limit shrank.
    expect(limit.limit).toBe(6);
  });

  it('should not count or refuse anything before it is enforced, and never leave its bounds', () => {
    const { limit, advance } = limitOf({ initial: 4, min: 4, max: 5, enforcing: false });
    for (const id of ids(0, 50)) expect(limit.admit(id)).toBe(false);
    expect(limit.size).toBe(0);
    limit.enforce();
    for (let round = 0; round < 6; round++) {
      const batch = ids(100 + round * 10, limit.limit);
      admitAll(limit, batch);
      advance(round < 3 ? 10 : 1_000); // three fast rounds, then three slow ones
      for (const id of batch) limit.release(id);
      advance(300);
      expect(limit.limit).toBeGreaterThanOrEqual(4);
      expect(limit.limit).toBeLessThanOrEqual(5);
    }
    expect(() => new InFlightLimit({ service: 'order', targetMs: 100, min: 5, max: 4 })).toThrow('1 ≤ min ≤ max');
  });
});
