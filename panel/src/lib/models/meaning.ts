/**
 * One colour per meaning, everywhere (PANEL.md): every state word the system uses maps to one meaning, and each
 * meaning has its colour (a CSS variable) and an icon, so nothing is told by colour alone.
 */

export type Meaning = 'ok' | 'warn' | 'bad' | 'comp' | 'forced' | 'neutral';

const BY_WORD: Record<string, Meaning> = {
  // healthy / closed / completed
  up: 'ok', healthy: 'ok', closed: 'ok', completed: 'ok', confirmed: 'ok', succeeded: 'ok', reserved: 'ok', charged: 'ok',
  scheduled: 'ok', committed: 'ok', live: 'ok', accepted: 'ok',
  // half-open / retrying / degraded
  halfOpen: 'warn', 'half-open': 'warn', retrying: 'warn', degraded: 'warn', starting: 'warn', restarting: 'warn',
  running: 'warn', pending: 'warn', reconnecting: 'warn', timedOut: 'bad', started: 'neutral', slow: 'warn',
  // open / failed / down
  open: 'bad', failed: 'bad', down: 'bad', parked: 'bad', rejected: 'bad', declined: 'bad', unreachable: 'bad',
  cancelled: 'bad', deadletter: 'bad', error: 'bad',
  // compensating / compensated
  compensating: 'comp', compensated: 'comp', refunded: 'comp', released: 'comp', refunding: 'comp', voided: 'comp',
  // forced by an operator
  forcedOpen: 'forced', disabled: 'forced', forced: 'forced', stopped: 'neutral', paused: 'forced',
};

/**
 * The meaning of a state word (a breaker state, a saga status, a process status, a saga phase…).
 *
 * @example
 * meaningOf('halfOpen'); // 'warn'
 */
export function meaningOf(word: string | undefined | null): Meaning {
  if (!word) return 'neutral';
  return BY_WORD[word] ?? BY_WORD[word.split('.')[0]!] ?? 'neutral';
}

/** The icon that goes with each meaning (never colour alone). */
export const ICON: Record<Meaning, string> = {
  ok: '✓',
  warn: '◐',
  bad: '✕',
  comp: '↺',
  forced: '◆',
  neutral: '•',
};

/** How a breaker state reads to a person. */
export function breakerWord(state: string): string {
  return state === 'halfOpen' ? 'half-open' : state === 'forcedOpen' ? 'forced open' : state;
}
