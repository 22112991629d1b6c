/**
 * The breakers controller: every circuit breaker of every process that has them (payment → provider; gateway →
 * each service), read from their own stats routes in parallel, as one flat list. A process that does not answer
 * is reported, breaker by breaker, as `unreachable` with what was last known — not as an error. Shared breakers
 * (`shared: true`, MAILROOM_SHARED_BREAKERS=1) are also listed once each, from Redis, with the processes using them.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import { type BreakerInstance, type BreakerStats, type BreakerStore } from '../../runtime/resilience/index.ts';
import type { ControlContext } from './context.ts';
import { BreakerRowsSchema, ControlErrorCode, SharedBreakersSchema } from './protocol.ts';
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

  return new Elysia({ name: 'control:breakers' })
    .get('/breakers', async () => (await Promise.all(BREAKER_SOURCES.map(poll))).flat(), {
      response: { 200: BreakerRowsSchema },
      detail: {
        responses: answers({ 200: 'Every breaker; one whose process is down is `unreachable`, with what was last known' }),
        summary: 'Every circuit breaker of every process: state, reason, window, thresholds, last trips',
        description: 'A process that is down is listed with state `unreachable` (and what was last known), not as an error.',
        tags: ['breakers'],
      },
    })
    .get('/breakers/shared', () => sharedBreakers(ctx.breakerStore), {
      response: { 200: SharedBreakersSchema, 503: ErrorBodySchema },
      detail: {
        responses: answers({ 200: 'Every shared breaker once, with its processes (empty when no breaker is shared)', 503: 'UPSTREAM_UNAVAILABLE: Redis, where shared breakers live, cannot be read' }),
        summary: 'Every shared breaker once: its state in Redis and each process using it, with that process’s own view',
        description:
          'Breakers created with `shared: true` (the shop: MAILROOM_SHARED_BREAKERS=1) keep one window and state in Redis. Each row is one breaker; `instances` lists the processes that heartbeated it in the last 5 s, each with mode `shared` (following Redis) or `local` (cut off, judging alone) and its own state.',
        tags: ['breakers'],
      },
    });
}

/** One shared breaker as `GET /control/breakers/shared` lists it (the panel reads it as this type). */
export type SharedBreakerRow = Awaited<ReturnType<typeof sharedBreakers>>[number];

/** How long a request waits for the store's first connection before saying Redis cannot be read. */
const STORE_WAIT_MS = 1_000;

/**
 * Every shared breaker's record and instances.
 *
 * @example
 * (await sharedBreakers(store))[0]; // { name: 'provider', state: 'open', instances: [{ instance: 'payment:4242', mode: 'shared', … }], … }
 */
export async function sharedBreakers(store: BreakerStore | undefined) {
  const unreadable = (why: string) => new HttpError(503, ControlErrorCode.upstreamUnavailable, `shared breakers cannot be read: ${why}; retry shortly`, { retryAfterMs: 1_000 });
  if (store === undefined) throw new HttpError(503, ControlErrorCode.upstreamUnavailable, 'shared breakers cannot be read on a Redis Cluster (the breaker store speaks to one Redis)');
  for (const start = Date.now(); !store.reachable && Date.now() - start < STORE_WAIT_MS; ) await Bun.sleep(25);
  if (!store.reachable) throw unreadable('Redis does not answer');
  try {
    const now = Date.now();
    return await Promise.all(
      (await store.names()).map(async (name) => {
        const [record, instances] = await Promise.all([store.read(name), store.instances(name)]);
        return {
          name,
          state: record.state,
          version: record.version,
          trips: record.trips,
          openedAt: record.openedAt > 0 ? record.openedAt : null,
          cause: record.cause.kind,
          instances: instances.map((i: BreakerInstance) => ({ instance: i.instance, source: i.source, pid: i.pid, state: i.state, mode: i.mode, ageMs: Math.max(0, now - i.at) })),
        };
      }),
    );
  } catch (error) {
    throw unreadable(error instanceof Error ? error.message : String(error));
  }
}

function blank(process: string, dependency: string): BreakerRow {
  return { process, dependency, state: 'unreachable', reason: '', since: null, retryAfterMs: null, window: null, thresholds: null, lastTrips: [] };
}
