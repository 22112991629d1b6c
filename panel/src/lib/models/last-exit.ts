/**
 * How a process last ended, as the Processes table says it. The supervisor can restart a killed process in a
 * fraction of a second — faster than the panel polls — so its "down" may never be drawn; the last exit stays, and
 * tells a person that it died, how, and when.
 */
import { ago } from './format.ts';

export type LastExit = { code: number | null; signal: string | null; at: number };

/**
 * @example
 * lastExitWords({ code: null, signal: 'SIGKILL', at: 1_000 }, 4_000); // 'SIGKILL 3.0 s ago'
 * lastExitWords(undefined, 4_000); // '—'
 */
export function lastExitWords(exit: LastExit | undefined, now: number): string {
  if (!exit) return '—';
  return `${exit.signal ?? `code ${exit.code}`} ${ago(exit.at, now)}`;
}
