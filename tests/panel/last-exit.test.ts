import { describe, expect, it } from 'bun:test';
import { lastExitWords } from '../../panel/src/lib/models/last-exit.ts';

describe('lastExitWords', () => {
  it('should name the signal that ended the process, and how long ago', () => {
    expect(lastExitWords({ code: null, signal: 'SIGKILL', at: 10_000 }, 13_000)).toBe('SIGKILL 3.0 s ago');
    expect(lastExitWords({ code: null, signal: 'SIGTERM', at: 10_000 }, 10_200)).toBe('SIGTERM just now');
  });

  it('should give the exit code when no signal ended it', () => {
    expect(lastExitWords({ code: 1, signal: null, at: 0 }, 125_000)).toBe('code 1 2 min 5 s ago');
  });

  it('should say nothing for a process that never exited', () => {
    expect(lastExitWords(undefined, 1_000)).toBe('—');
  });
});
