import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { CountWindow, FAILED, SLOW, TimeWindow } from '../../runtime/resilience/sliding-window.ts';

describe('CountWindow', () => {
  it('should hold only the last N outcomes', () => {
    const window = new CountWindow(3);
    window.record(FAILED, 0);
    window.record(FAILED | SLOW, 0);
    window.record(0, 0);
    expect(window.stats(0)).toEqual({ calls: 3, failures: 2, slowCalls: 1, failureRate: (2 / 3) * 100, slowCallRate: (1 / 3) * 100 });
    window.record(0, 0); // evicts the first failure
    window.record(0, 0); // evicts the slow failure
    expect(window.stats(0)).toMatchObject({ calls: 3, failures: 0, slowCalls: 0, failureRate: 0 });
  });

  it('should start empty again after reset', () => {
    const window = new CountWindow(2);
    window.record(FAILED, 0);
    window.reset();
    window.record(0, 0);
    window.record(0, 0);
    expect(window.stats(0)).toMatchObject({ calls: 2, failures: 0 });
  });

  it('should agree with a naive model of the last N calls (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 100 }), (size, outcomes) => {
        const window = new CountWindow(size);
        for (const outcome of outcomes) window.record(outcome, 0);
        const last = outcomes.slice(-size);
        expect(window.stats(0)).toMatchObject({
          calls: last.length,
          failures: last.filter((o) => o & FAILED).length,
          slowCalls: last.filter((o) => o & SLOW).length,
        });
      }),
    );
  });
});

describe('TimeWindow', () => {
  it('should expire a bucket exactly when the window has moved past it', () => {
    const window = new TimeWindow(10_000, 10);
    window.record(FAILED, 0);
    window.record(FAILED, 999);
    window.record(0, 1_000);
    expect(window.stats(9_999)).toMatchObject({ calls: 3, failures: 2 });
    expect(window.stats(10_000)).toMatchObject({ calls: 1, failures: 0 });
    expect(window.stats(10_999)).toMatchObject({ calls: 1 });
    expect(window.stats(11_000)).toMatchObject({ calls: 0, failureRate: 0 });
  });

  it('should drop everything after an idle gap longer than the window', () => {
    const window = new TimeWindow(10_000, 10);
    for (let t = 0; t < 10_000; t += 100) window.record(FAILED, t);
    window.record(0, 60_000);
    expect(window.stats(60_000)).toMatchObject({ calls: 1, failures: 0 });
  });

  it('should record into the newest bucket when the clock steps back', () => {
    const window = new TimeWindow(10_000, 10);
    window.record(0, 5_000);
    window.record(FAILED, 4_000);
    expect(window.stats(14_999)).toMatchObject({ calls: 2, failures: 1 });
    expect(window.stats(15_000)).toMatchObject({ calls: 0 });
  });

  it('should agree with a naive model of the last T ms in buckets (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 4_000 }), outcome: fc.integer({ min: 0, max: 3 }) }), { maxLength: 80 }),
        fc.integer({ min: 0, max: 20_000 }),
        (buckets, calls, readAfter) => {
          const bucketMs = 1_000;
          const window = new TimeWindow(bucketMs * buckets, buckets);
          const recorded: { t: number; outcome: number }[] = [];
          let t = 0;
          for (const { gap, outcome } of calls) {
            t += gap;
            window.record(outcome, t);
            recorded.push({ t, outcome });
          }
          const now = t + readAfter;
          const oldestKept = Math.floor(now / bucketMs) - buckets + 1;
          const kept = recorded.filter((call) => Math.floor(call.t / bucketMs) >= oldestKept);
          expect(window.stats(now)).toMatchObject({
            calls: kept.length,
            failures: kept.filter((c) => c.outcome & FAILED).length,
            slowCalls: kept.filter((c) => c.outcome & SLOW).length,
          });
        },
      ),
    );
  });
});
