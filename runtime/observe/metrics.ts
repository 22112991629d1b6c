/**
 * Mailroom's Prometheus metrics: one registry per process (prom-client), every metric declared here once, named
 * per Prometheus conventions (`mailroom_` prefix, `_total` counters, `_seconds` histograms, base units) with
 * low-cardinality labels only — service, partition, actor type, route, breaker, saga, step; never an actor or
 * order id. What is counted per message, per commit or per request is a `HotCounter` / `HotHistogram`
 * (`hot-metrics.ts`): the hot path holds label-bound children (`.labels(...)` once, `.inc()` per use), so a count
 * costs a field update, not a label hash. `GET /metrics` answers `metricsText()`.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics.ts';

export const registry = new Registry();

/**
 * `MAILROOM_METRICS=off` turns counting off (the hot path's counters become no-ops, inspection events are not
 * counted, requests are not timed, no default collectors); `/metrics` still answers, with what is left. It exists to
 * measure what metrics cost (`bun run bench mailbox --observe-cost`), not to run without them.
 */
export const metricsOn = (process.env.MAILROOM_METRICS ?? 'on').toLowerCase() !== 'off';

/**
 * How often the event-loop lag is sampled, in ms. prom-client's 10 ms default wakes an idle process 100 times a
 * second (~9 ms of CPU a second in Bun, half of an idle node's); at 100 ms a stall of B ms is caught with
 * probability B/100 per occurrence — enough for `nodejs_eventloop_lag_*` to show a loop that is often blocked.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

if (metricsOn) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
// prom-client names three gauges `…_total`, which Prometheus reserves for counters (promtool rejects them).
if (metricsOn) for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
/**
 * The heap-space gauges prom-client reads with `v8.getHeapSpaceStatistics()`, which Bun answers by walking the whole
 * heap: ~2 ms in an empty process, 21 ms with 200,000 small objects, 100 ms with a million — every scrape stalled the
 * process that long, and the control plane scrapes each process every second. `nodejs_heap_size_*_bytes` (from
 * `process.memoryUsage()`, cheap) still say how big the heap is.
 */
export const DROPPED_DEFAULT_METRICS = ['nodejs_heap_space_size_total_bytes', 'nodejs_heap_space_size_used_bytes', 'nodejs_heap_space_size_available_bytes'] as const;
if (metricsOn) for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);

/** Seconds buckets for work inside one process (a turn, a commit): 50 µs to 1 s. */
const FAST = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Seconds buckets for calls and steps that cross processes: 1 ms to 60 s. */
const SLOW = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const registers = [registry];

// ---------------------------------------------------------------------------------------------- turns
export const turnsTotal = new HotCounter({
  name: 'mailroom_turns_total',
  help: 'Messages applied by an actor (one turn each), committed or not.',
  labelNames: ['service', 'actor_type'] as const,
  registers,
});
export const turnDuration = new HotHistogram({
  name: 'mailroom_turn_duration_seconds',
  help: 'Time an actor took to apply one message (its XState step and the encoding of what it decided).',
  labelNames: ['service'] as const,
  buckets: FAST,
  registers,
});
export const messagesAckedTotal = new HotCounter({
  name: 'mailroom_messages_acked_total',
  help: 'Mailbox entries acknowledged by committed batches (applied, duplicates, dropped and dead-lettered ones).',
  labelNames: ['service'] as const,
  registers,
});
export const messagesLocalTotal = new HotCounter({
  name: 'mailroom_messages_local_total',
  help: 'Messages a turn sent to an actor of the same partition that committed batches applied themselves, without the mailbox (local delivery).',
  labelNames: ['service'] as const,
  registers,
});
export const commitsTotal = new HotCounter({
  name: 'mailroom_commits_total',
  help: 'Batch commits by outcome: committed, fenced (a newer lease holder), conflict (actor version), duplicate, refused, not-delivered (the group was not where the batch’s read left it).',
  labelNames: ['service', 'outcome'] as const,
  registers,
});
export const commitDuration = new HotHistogram({
  name: 'mailroom_commit_duration_seconds',
  help: 'Time of one batch commit (the commit script round trip).',
  labelNames: ['service'] as const,
  buckets: FAST,
  registers,
});
export const batchSize = new HotHistogram({
  name: 'mailroom_batch_size',
  help: 'Mailbox entries acknowledged per committed batch.',
  labelNames: ['service'] as const,
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  registers,
});
export const mailboxUndelivered = new Gauge({
  name: 'mailroom_mailbox_undelivered_messages',
  help: 'Mailbox entries not yet read by the consumer group (its lag), per owned partition; read at scrape time.',
  labelNames: ['service', 'partition'] as const,
  registers,
});
export const mailboxPending = new Gauge({
  name: 'mailroom_mailbox_pending_messages',
  help: 'Mailbox entries read and not yet acknowledged, per owned partition; read at scrape time.',
  labelNames: ['service', 'partition'] as const,
  registers,
});
export const deadLettersTotal = new HotCounter({
  name: 'mailroom_dead_letters_total',
  help: 'Messages moved to a dead-letter stream.',
  labelNames: ['service'] as const,
  registers,
});
export const messageRetriesTotal = new HotCounter({
  name: 'mailroom_message_retries_total',
  help: 'Failed turns scheduled for another delivery (before the dead-letter limit).',
  labelNames: ['service'] as const,
  registers,
});
export const effectsRunning = new Gauge({
  name: 'mailroom_effects_running',
  help: 'Effects (invoked promises) running in this process now.',
  labelNames: ['service'] as const,
  registers,
});
export const effectDuration = new HotHistogram({
  name: 'mailroom_effect_duration_seconds',
  help: 'Time an effect took, from its start to its outcome, by effect and outcome (done, error).',
  labelNames: ['service', 'effect', 'outcome'] as const,
  buckets: SLOW,
  registers,
});
export const timersArmedTotal = new HotCounter({
  name: 'mailroom_timers_armed_total',
  help: 'Durable timers armed by committed turns.',
  labelNames: ['service'] as const,
  registers,
});
export const timersFiredTotal = new HotCounter({
  name: 'mailroom_timers_fired_total',
  help: 'Durable timers whose firing an actor applied.',
  labelNames: ['service'] as const,
  registers,
});
export const leaseMovesTotal = new Counter({
  name: 'mailroom_lease_moves_total',
  help: 'Partition leases this process acquired or lost.',
  labelNames: ['service', 'direction'] as const,
  registers,
});
export const nodesGauge = new Gauge({
  name: 'mailroom_nodes',
  help: 'Live nodes of a service, as this process last saw the registry.',
  labelNames: ['service'] as const,
  registers,
});
export const partitionsOwned = new Gauge({
  name: 'mailroom_partitions_owned',
  help: 'Partitions whose lease this process holds.',
  labelNames: ['service'] as const,
  registers,
});

// ---------------------------------------------------------------------------------------------- resilience
export const breakerState = new Gauge({
  name: 'mailroom_breaker_state',
  help: 'A circuit breaker state: 1 for the state it is in, 0 for the others.',
  labelNames: ['service', 'breaker', 'state'] as const,
  registers,
});
export const breakerTransitionsTotal = new Counter({
  name: 'mailroom_breaker_transitions_total',
  help: 'Circuit breaker transitions, by target state and reason class.',
  labelNames: ['service', 'breaker', 'to', 'reason'] as const,
  registers,
});
export const breakerRejectedTotal = new Counter({
  name: 'mailroom_breaker_rejected_calls_total',
  help: 'Calls a circuit breaker refused without trying them.',
  labelNames: ['service', 'breaker'] as const,
  registers,
});
export const retryAttemptsTotal = new Counter({
  name: 'mailroom_retry_attempts_total',
  help: 'Retries of synchronous calls by a retry policy.',
  labelNames: ['service', 'policy'] as const,
  registers,
});
export const bulkheadRejectedTotal = new Counter({
  name: 'mailroom_bulkhead_rejected_calls_total',
  help: 'Calls a bulkhead refused (queue full, or waited too long).',
  labelNames: ['service', 'bulkhead', 'reason'] as const,
  registers,
});

export const admissionRefusedTotal = new Counter({
  name: 'mailroom_admission_refused_total',
  help: 'Requests refused at the door because a service they would queue for is behind (backlog, age) or its backlog cannot be read (unsampled); service = that service.',
  labelNames: ['service', 'reason'] as const,
  registers,
});
/** The in-flight limits of this process (`admission/in-flight-limit.ts`), read at scrape time. */
export const inFlightLimits = new Set<{ readonly service: string; readonly size: number; readonly limit: number }>();
/** A gauge read at scrape time from every in-flight limit of the process. */
const inFlightGauge = (name: string, help: string, read: (limit: { size: number; limit: number }) => number) =>
  new Gauge({
    name,
    help,
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const limit of inFlightLimits) this.inc({ service: limit.service }, read(limit));
    },
  });
export const admissionInFlight = inFlightGauge(
  'mailroom_admission_in_flight',
  'Work admitted under an in-flight limit whose end has not been heard of yet (the gateway: sagas of its orders); service = where the work goes; read at scrape time.',
  (limit) => limit.size,
);
export const admissionInFlightLimit = inFlightGauge(
  'mailroom_admission_in_flight_limit',
  'How much work an in-flight limit lets be in flight now (it adapts to keep that work within its target latency; 0 until it holds); read at scrape time.',
  (limit) => limit.limit,
);

// ---------------------------------------------------------------------------------------------- http
export const httpRequestsTotal = new HotCounter({
  name: 'mailroom_http_requests_total',
  help: 'HTTP requests answered, by route pattern and status code.',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  registers,
});
export const httpRequestDuration = new HotHistogram({
  name: 'mailroom_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route pattern.',
  labelNames: ['service', 'method', 'route'] as const,
  buckets: SLOW,
  registers,
});

// ---------------------------------------------------------------------------------------------- sagas
export const sagasTotal = new HotCounter({
  name: 'mailroom_sagas_total',
  help: 'Sagas by what happened to them: started, completed, compensated, parked.',
  labelNames: ['service', 'saga', 'outcome'] as const,
  registers,
});
export const sagaDuration = new HotHistogram({
  name: 'mailroom_saga_duration_seconds',
  help: 'Time a saga took from its start to its end, by how it ended (completed, compensated).',
  labelNames: ['service', 'saga', 'outcome'] as const,
  buckets: SLOW,
  registers,
});
export const sagaStepDuration = new HotHistogram({
  name: 'mailroom_saga_step_duration_seconds',
  help: 'Time of a saga step or compensation, from its first try to its end, by how it ended.',
  labelNames: ['service', 'saga', 'step', 'phase'] as const,
  buckets: SLOW,
  registers,
});

/**
 * The metrics of this process in Prometheus' text format.
 *
 * @example
 * new Elysia().get('/metrics', async () => new Response(await metricsText(), { headers: { 'content-type': METRICS_CONTENT_TYPE } }));
 */
export async function metricsText(): Promise<string> {
  await refreshGauges();
  return registry.metrics();
}

/**
 * Scrapes close together share one read of the gauges (at most one per `REFRESH_MS`, and one at a time), so a flood
 * of `GET /metrics` cannot turn into a flood of Redis reads.
 */
const REFRESH_MS = 100;
let refreshing: Promise<void> | null = null;
let refreshedAt = -Infinity;

function refreshGauges(): Promise<void> {
  if (refreshing) return refreshing;
  if (performance.now() - refreshedAt < REFRESH_MS) return Promise.resolve();
  refreshing = (async () => {
    // Partitions a node no longer owns must not keep their last backlog: these are set afresh on every refresh.
    mailboxUndelivered.reset();
    mailboxPending.reset();
    await Promise.all([...beforeScrape].map(async (fn) => {
      try {
        await fn();
      } catch {
        // A gauge that could not be read keeps its last value; the scrape still answers.
      }
    }));
  })().finally(() => {
    refreshedAt = performance.now();
    refreshing = null;
  });
  return refreshing;
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/** Work to do before each scrape (gauges read from Redis or from a node's state); returns its removal. */
const beforeScrape = new Set<() => Promise<void> | void>();

/**
 * Runs `fn` before every scrape (to set gauges read at scrape time); returns the function that stops it.
 *
 * @example
 * const stop = onScrape(() => partitionsOwned.labels('order').set(leases.owned.length));
 */
export function onScrape(fn: () => Promise<void> | void): () => void {
  beforeScrape.add(fn);
  return () => beforeScrape.delete(fn);
}

export type WorkerMetrics = {
  turns(actorType: string): { inc(): void };
  turnDuration: { observe(seconds: number): void };
  acked: { inc(n: number): void };
  local: { inc(n: number): void };
  commit(outcome: 'committed' | 'fenced' | 'conflict' | 'duplicate' | 'refused' | 'not-delivered'): { inc(): void };
  commitDuration: { observe(seconds: number): void };
  batchSize: { observe(n: number): void };
  retries: { inc(): void };
};

const NOTHING = { inc() {}, observe() {} };
const NO_WORKER_METRICS: WorkerMetrics = { turns: () => NOTHING, turnDuration: NOTHING, acked: NOTHING, local: NOTHING, commit: () => NOTHING, commitDuration: NOTHING, batchSize: NOTHING, retries: NOTHING };

/**
 * The partition workers' metrics for one service, bound to its label once (every worker of the service shares
 * them). A worker keeps the children it uses; `turns` and `commit` look theirs up by one small key.
 *
 * @example
 * const m = workerMetrics('order');
 * m.turns('order').inc();
 */
export function workerMetrics(service: string): WorkerMetrics {
  if (!metricsOn) return NO_WORKER_METRICS;
  // Looked up per turn and per commit: by the one varying label, without joining label values into a key each time.
  const turns = new Map<string, { inc(): void }>();
  const commits = new Map<string, { inc(): void }>();
  const cached = (map: Map<string, { inc(): void }>, value: string, bind: () => { inc(): void }) => map.get(value) ?? map.set(value, bind()).get(value)!;
  return {
    turns: (actorType) => cached(turns, actorType, () => turnsTotal.labels(service, actorType)),
    turnDuration: turnDuration.labels(service),
    acked: messagesAckedTotal.labels(service),
    local: messagesLocalTotal.labels(service),
    commit: (outcome) => cached(commits, outcome, () => commitsTotal.labels(service, outcome)),
    commitDuration: commitDuration.labels(service),
    batchSize: batchSize.labels(service),
    retries: messageRetriesTotal.labels(service),
  };
}
