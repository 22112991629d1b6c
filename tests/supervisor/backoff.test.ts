import { describe, expect, it } from 'bun:test';
import { DEFAULT_BACKOFF, RestartBackoff, restartDelay } from '../../runtime/supervisor/backoff.ts';

describe('restartDelay', () => {
  it('should double from 250 ms and stop at 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => restartDelay(DEFAULT_BACKOFF, n))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });
});

describe('RestartBackoff', () => {
  it('should grow while the process keeps dying and start over after a stable run', () => {
    const backoff = new RestartBackoff(DEFAULT_BACKOFF);
    expect(backoff.next(undefined)).toBe(250);
    expect(backoff.next(500)).toBe(500);
    expect(backoff.next(undefined)).toBe(1000);
    expect(backoff.next(DEFAULT_BACKOFF.stableAfterMs)).toBe(250);
    expect(backoff.next(undefined)).toBe(500);
  });
});
