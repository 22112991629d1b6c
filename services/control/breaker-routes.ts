/**
 * The breakers controller: every circuit breaker of every process that has them (payment → provider; gateway →
 * each service), read from their own stats routes in parallel, as one flat list. A process that does not answer
 * is reported, breaker by breaker, as `unreachable` with what was last known — not as an error.
 */
import { Elysia } from 'elysia';
import { answers } from '../../runtime/http/index.ts';
import { type BreakerStats } from '../../runtime/resilience/index.ts';
import type { ControlContext } from './context.ts';
import { BreakerRowsSchema } from './protocol.ts';
import { callUpstream } from './upstream.ts';

/** Where the breakers live, and the dependencies each process guards (listed even before it first answers). */
export const BREAKER_SOURCES = [
  { process: 'payment', path: '/breakers', dependencies: ['provider'] },
  { process: 'gateway', path: '/api/breakers', dependencies: ['order', 'inventory', 'payment', 'shipping'] },
] as const;

const POLL_TIMEOUT_MS = 1_500;

export type BreakerRow = {
  process: string;
  dependency: string;
  state: BreakerStats['state'] | 'unreachable';
  reason: string;
  since: number | null;
  retryAfterMs: number | null;
  window: BreakerStats['window'] | null;
  thresholds: BreakerStats['thresholds'] | null;
  lastTrips: { at: number; reason: string }[];
  trips?: number;
  waitMs?: number;
  rejected?: number;
  transitions?: { from: string; to: string; reason: string; at: number }[];
  bulkhead?: unknown;
  unreachable?: boolean;
  error?: string;
};

/**
 * Rows from a process's stats body (`{ <dependency>: { breaker, bulkhead } }`).
 *
 * @example
 * breakerRows('payment', { provider: { baseUrl: '…', breaker: stats, bulkhead: undefined } })[0].state; // 'closed'
 */
export function breakerRows(process: string, body: Record<string, { breaker: BreakerStats; bulkhead?: unknown }>): BreakerRow[] {
  return Object.entries(body).map(([dependency, { breaker, bulkhead }]) => ({
    process,
    dependency,
    state: breaker.state,
    reason: breaker.reason,
    since: breaker.since,
    retryAfterMs: breaker.retryAfterMs ?? null,
    window: breaker.window,
    thresholds: breaker.thresholds,
    lastTrips: breaker.lastTrips.map(({ at, reason }) => ({ at, reason })),
    trips: breaker.trips,
    waitMs: breaker.waitMs,
    rejected: breaker.rejected,
    transitions: breaker.transitions,
    ...(bulkhead ? { bulkhead } : {}),
  }));
}

export function breakerRoutes(ctx: ControlContext) {
  const lastKnown = new Map<string, BreakerRow[]>();

  const poll = async ({ process, path, dependencies }: (typeof BREAKER_SOURCES)[number]): Promise<BreakerRow[]> => {
    try {
      const reply = await callUpstream(ctx, process, path, {}, POLL_TIMEOUT_MS);
      if (reply.status !== 200) throw new Error(`${process} answered ${reply.status}`);
      const rows = breakerRows(process, reply.body as Record<string, { breaker: BreakerStats }>);
      lastKnown.set(process, rows);
      return rows;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const known = lastKnown.get(process) ?? dependencies.map((dependency) => blank(process, dependency));
      return known.map((row) => ({ ...row, state: 'unreachable', reason: `${process} is not answering (${why}); last known: ${row.state}`, retryAfterMs: null, unreachable: true, error: why }));
    }
  };

  return new Elysia({ name: 'control:breakers' }).get('/breakers', async () => (await Promise.all(BREAKER_SOURCES.map(poll))).flat(), {
    response: { 200: BreakerRowsSchema },
    detail: {
      responses: answers({ 200: 'Every breaker; one whose process is down is `unreachable`, with what was last known' }),
      summary: 'Every circuit breaker of every process: state, reason, window, thresholds, last trips',
      description: 'A process that is down is listed with state `unreachable` (and what was last known), not as an error.',
      tags: ['breakers'],
    },
  });
}

function blank(process: string, dependency: string): BreakerRow {
  return { process, dependency, state: 'unreachable', reason: '', since: null, retryAfterMs: null, window: null, thresholds: null, lastTrips: [] };
}
