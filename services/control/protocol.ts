/**
 * The control plane's protocol, declared before anything uses it: the `/control/*` request schemas, the response
 * shapes the panel codes against, and the error codes. Every error is `{ code, message, details? }` (the HTTP
 * frame's); every mutating route needs `Authorization: Bearer <token>`.
 */
import { t, type Static } from 'elysia';
import { CHAOS_KINDS } from '../../runtime/ops/index.ts';
import { KILL_SIGNALS, PROCESS_ACTIONS } from '../../runtime/supervisor/index.ts';
import { LINK_FAULT_KINDS } from '../../runtime/redis/index.ts';
import { pageLimit, validationError, type DocumentTag } from '../../runtime/http/index.ts';
import { type ChaosRule } from '../../runtime/index.ts';
import { EXAMPLE, OrderId } from '../shared/shop-vocabulary.ts';

/** What the control plane's OpenAPI document says first, its tags, and the bearer token on its changing calls. */
export const CONTROL_API = {
  description:
    'The control API behind the panel: topology, actors, sagas, breakers, dead letters, chaos, load, the strangler fig and inspection events. Reads are open on loopback (an exposed control plane wants the token on every read too); every POST, PUT and DELETE needs `Authorization: Bearer <token>` (Authorize above): the token is in the panel URL `bun run dev` prints, and in .data/control-token.',
  tags: [
    { name: 'topology', description: 'Processes (from the supervisor), nodes, partition owners, Redis health and message rates' },
    { name: 'actors', description: 'Actors paged through the per-partition index, one actor with its machine and transitions, machines as graphs' },
    { name: 'sagas', description: 'The order service’s saga API, passed through: list by status, one with its log, retry or resolve a parked one' },
    { name: 'breakers', description: 'Every circuit breaker of every process' },
    { name: 'dead letters', description: 'Messages that failed 5 deliveries: list, replay into their mailbox, discard' },
    { name: 'chaos', description: 'Failure rules, named scenarios, process commands (kill, restart, pause …) and service pauses' },
    { name: 'load', description: 'Random orders through the gateway at a steady rate' },
    { name: 'strangler', description: 'The gateway’s strangler fig weight (catalogue reads served by inventory)' },
    { name: 'events', description: 'Inspection events: history and a live Server-Sent Events stream' },
    { name: 'stats', description: 'Saga outcomes, orders per second and saga latency' },
    { name: 'observability', description: 'The Overview’s charts from every process’s /metrics, the OTLP/HTTP trace receiver, and traces by id or by order' },
    { name: 'notifications', description: 'The notifications service’s outbox, passed through: the notice of an order, or every notice paged' },
  ] satisfies DocumentTag[],
  bearer: { description: 'The control token: in the panel URL `bun run dev` / `bun run start` prints, and in .data/control-token' },
};

export const ControlErrorCode = {
  unauthorized: 'UNAUTHORIZED',
  invalidChaosRule: 'INVALID_CHAOS_RULE',
  unknownService: 'UNKNOWN_SERVICE',
  unknownProcess: 'UNKNOWN_PROCESS',
  actorNotFound: 'ACTOR_NOT_FOUND',
  /** Time travel: the version asked for is not in the actor's history (never reached, or older than its type keeps). */
  versionNotFound: 'VERSION_NOT_FOUND',
  machineNotFound: 'MACHINE_NOT_FOUND',
  deadLetterNotFound: 'DEAD_LETTER_NOT_FOUND',
  ruleNotFound: 'RULE_NOT_FOUND',
  scenarioNotFound: 'SCENARIO_NOT_FOUND',
  invalidCursor: 'INVALID_CURSOR',
  invalidAddress: 'INVALID_ADDRESS',
  /** No supervisor listens for process commands (the control plane runs without `bun run dev`/`start`). */
  supervisorUnavailable: 'SUPERVISOR_UNAVAILABLE',
  /** A process the control plane forwards to (order, gateway) did not answer. */
  upstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  tooManyStreams: 'TOO_MANY_STREAMS',
} as const;

const NAME = '^[a-z][a-z0-9-]{0,62}$';
/** A process in the supervisor's table: a name, and `#k` for replica k past the first (`order#2`). */
const PROCESS_NAME = '^[a-z][a-z0-9-]{0,62}(#[1-9][0-9]?)?$';

/** Page sizes: the range and the default of each list's `limit`. */
export const LIMITS = { actors: [1, 500, 50], deadLetters: [1, 500, 100], events: [1, 1_000, 200], versions: [1, 500, 50] } as const;
const range = ([min, max, fallback]: readonly [number, number, number]) => ({ min, max, default: fallback });

/**
 * A query number within its range (or its default), else a 422 naming the field.
 *
 * @example
 * const limit = inRange('query.limit', query.limit, LIMITS.actors);
 */
export function inRange(field: string, value: number | undefined, [min, max, fallback]: readonly [number, number, number]): number {
  if (value === undefined) return fallback;
  if (value >= min && value <= max) return value;
  const message = `${field} is invalid: expected ${min}–${max}, got ${value}`;
  throw validationError(field, message);
}

// ── Actors and machines ────────────────────────────────────────────────────────────────────────────────────────

export const ActorListQuerySchema = t.Object({
  service: t.Optional(t.String({ pattern: NAME, description: 'One service (default: all, in name order)' })),
  type: t.Optional(t.String({ pattern: NAME, description: 'One actor type' })),
  q: t.Optional(t.String({ maxLength: 200, pattern: '^[^\\s]*$', description: 'Id prefix, or a glob (`*`, `?`, `[...]`) over the id' })),
  cursor: t.Optional(t.String({ maxLength: 400, description: 'From the previous page' })),
  // Ranges of query numbers are checked by the route (`inRange`), which names the field; Elysia's coerced numbers
  // would not. The document shows the bounds.
  limit: pageLimit(range(LIMITS.actors), 'Actors per page'),
});

export const ActorPageSchema = t.Object({
  items: t.Array(t.Object({ address: t.String(), state: t.String() })),
  cursor: t.Union([t.String(), t.Null()], { description: 'null on the last page' }),
});

const ServiceName = t.String({ pattern: NAME, description: 'A service name', examples: ['inventory'] });
const ActorType = t.String({ pattern: NAME, description: 'An actor type of the service', examples: ['sku'] });

export const ActorParamsSchema = t.Object({
  service: ServiceName,
  type: ActorType,
  id: t.String({ minLength: 1, maxLength: 200, description: 'The actor id (URL-encoded: an id may contain slashes, as %2F)', examples: [EXAMPLE.sku] }),
});

export const MachineParamsSchema = t.Object({ service: ServiceName, type: ActorType });

// ── Time travel ────────────────────────────────────────────────────────────────────────────────────────────────

export const ActorHistoryQuerySchema = t.Object({
  // Bounded: a history holds at most a few thousand versions, and Redis refuses an index past 2^63 (a 500 the barrage found).
  offset: t.Optional(t.Integer({ minimum: 0, maximum: 1_000_000, description: 'Versions to skip from the newest (default 0, at most 1,000,000)' })),
  limit: pageLimit(range(LIMITS.versions), 'Versions per page'),
});

export const ActorVersionParamsSchema = t.Object({
  ...ActorParamsSchema.properties,
  version: t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'A committed version (1 = the first committed snapshot)', examples: [1] }),
});

const VersionCauseSchema = t.Object(
  {
    id: t.String({ description: 'The message id' }),
    type: t.String({ description: 'The event type the actor applied' }),
    from: t.Optional(t.String({ description: 'The sending actor’s address, when an actor sent it' })),
    kind: t.Optional(t.String({ description: '`timer` or `effect` when the runtime delivered it' })),
  },
  { description: 'A message that made this version' },
);

const actorVersionFields = {
  version: t.Integer({ minimum: 1 }),
  at: t.Number({ description: 'When it committed (ms since the epoch)' }),
  causes: t.Array(VersionCauseSchema, { description: 'The messages applied in the commit, oldest first (usually one)' }),
  state: t.String({ description: 'The state it left' }),
  status: t.String({ description: '`active`, `done` or `error`' }),
  machineVersion: t.Integer({ minimum: 1, description: 'The version of the actor type’s definition that wrote it' }),
};

export const ActorHistorySchema = t.Object(
  {
    address: t.String(),
    items: t.Array(t.Object(actorVersionFields), { description: 'Newest first' }),
    total: t.Integer({ description: 'Versions held (at most the type’s `history.keep`)' }),
    newest: t.Union([t.Integer(), t.Null()], { description: 'The newest version held; null when none is' }),
    oldest: t.Union([t.Integer(), t.Null()], { description: 'The oldest version held; older ones are gone' }),
  },
  { description: 'A page of an actor’s committed versions' },
);

export const ActorAtSchema = t.Object(
  {
    ...actorVersionFields,
    address: t.String(),
    context: t.Unknown({ description: 'Its context at that version' }),
    snapshot: t.Unknown({ description: 'The persisted XState snapshot exactly as committed' }),
  },
  { description: 'The actor exactly as it was right after this version committed' },
);

// ── Dead letters ───────────────────────────────────────────────────────────────────────────────────────────────

export const DeadLetterQuerySchema = t.Object({
  service: t.Optional(t.String({ pattern: NAME, examples: ['inventory'] })),
  limit: pageLimit(range(LIMITS.deadLetters), 'Dead letters listed'),
});

export const DeadLetterParamsSchema = t.Object({
  service: ServiceName,
  partition: t.Integer({ minimum: 0, maximum: 1023, examples: [0] }),
  id: t.String({ pattern: '^\\d{1,20}-\\d{1,20}$', description: 'The dead-letter stream entry id', examples: ['1733212800000-0'] }),
});

// ── Chaos and processes ────────────────────────────────────────────────────────────────────────────────────────

const LatencySchema = t.Union([
  t.Number({ description: 'A fixed latency, ms' }),
  t.Object({ min: t.Number(), max: t.Number() }, { description: 'A uniform pick in [min, max] ms' }),
]);

export const NewRuleSchema = t.Object({
  kind: t.String({ description: CHAOS_KINDS.join(', '), examples: ['latency'] }),
  target: t.Object(
    {
      service: t.Optional(t.String({ maxLength: 63 })),
      messageType: t.Optional(t.String({ maxLength: 100 })),
      route: t.Optional(t.String({ maxLength: 200 })),
      dependency: t.Optional(t.String({ maxLength: 63 })),
    },
    { description: 'Where: a service’s messages (optionally of one type), a route of a process, or calls to a dependency' },
  ),
  probability: t.Number({ description: '0–1' }),
  latencyMs: t.Optional(LatencySchema),
  status: t.Optional(t.Integer({ description: 'HTTP status of an injected error (default 503)' })),
  fault: t.Optional(t.String({ description: `For a redis rule: ${LINK_FAULT_KINDS.join(', ')} (a call fails before it is sent, its reply is lost after it ran, the connection resets, latency, a stall)` })),
  durationMs: t.Number({ description: 'How long the rule lasts, 1 ms – 24 h' }),
  note: t.Optional(t.String({ maxLength: 200 })),
}, {
  examples: [{ kind: 'latency', target: { service: 'inventory', messageType: 'sku.restock' }, probability: 0.1, latencyMs: 50, durationMs: 60_000, note: 'added from Swagger UI' }],
});
export type NewRule = Static<typeof NewRuleSchema>;

export const ScenarioBodySchema = t.Optional(
  t.Object({ durationMs: t.Optional(t.Integer({ minimum: 1_000, maximum: 3_600_000, description: 'How long its rules last (default 60 s)' })) }, { examples: [{ durationMs: 30_000 }] }),
);

export const ProcessParamsSchema = t.Object({
  name: t.String({ pattern: PROCESS_NAME, description: 'A process the supervisor runs (`order#2`: the second replica of order, URL-encoded `order%232`)', examples: ['shipping'] }),
  action: t.Union(PROCESS_ACTIONS.map((a) => t.Literal(a)), { examples: ['restart'] }),
});

export const ProcessCommandBodySchema = t.Optional(
  t.Object({ signal: t.Optional(t.Union(KILL_SIGNALS.map((s) => t.Literal(s)), { description: 'For kill (default SIGKILL)' })) }, { examples: [{}] }),
);

export const ServiceParamsSchema = t.Object({ name: ServiceName });

export const PauseBodySchema = t.Object({ seconds: t.Integer({ minimum: 1, maximum: 3_600, description: 'How long its consumers stop reading' }) }, { examples: [{ seconds: 5 }] });

// ── Load and strangler ─────────────────────────────────────────────────────────────────────────────────────────

export const LoadBodySchema = t.Object(
  {
    ratePerSec: t.Number({ minimum: 1, maximum: 500, description: 'Orders per second, 1–500' }),
    durationS: t.Optional(t.Integer({ minimum: 1, maximum: 3_600, description: 'Stop after this long (default: until DELETE)' })),
  },
  { examples: [{ ratePerSec: 2, durationS: 10 }] },
);

export const StranglerBodySchema = t.Object(
  { weight: t.Integer({ minimum: 0, maximum: 100, description: 'Percent of catalogue reads (GET /api/catalogue and /api/catalogue/{sku}) served by inventory' }) },
  { examples: [{ weight: 0 }] },
);

// ── Events ─────────────────────────────────────────────────────────────────────────────────────────────────────

const EVENT_ID = '^(\\d{1,20}-\\d{1,20}(/\\d{1,6})?|0|\\$)$';

export const EventsQuerySchema = t.Object({
  from: t.Optional(t.String({ pattern: EVENT_ID, description: 'Events after this event id (`<entry>/<index>`); default: the latest', examples: ['0'] })),
  limit: pageLimit(range(LIMITS.events), 'Events listed'),
  type: t.Optional(t.String({ maxLength: 500, description: 'Comma-separated event types; `saga.*` matches a family' })),
  source: t.Optional(t.String({ maxLength: 500, description: 'Comma-separated sources (service or process names)' })),
});

export const StreamQuerySchema = t.Object({
  from: t.Optional(t.String({ pattern: EVENT_ID, description: 'Resume after this event id (the Last-Event-ID header wins)', examples: ['$'] })),
  type: t.Optional(t.String({ maxLength: 500 })),
  source: t.Optional(t.String({ maxLength: 500 })),
  access_token: t.Optional(t.String({ maxLength: 256, description: 'The control token, for a browser’s EventSource (it cannot send Authorization); needed only when the control plane is exposed' })),
});
export const EVENT_ID_PATTERN = new RegExp(EVENT_ID);

/** What `POST /control/chaos/scenarios/:name` answers. */
export type ScenarioResult = { scenario: string; rules: ChaosRule[]; actions: { action: string; process: string }[] };

// ── Sagas (the order service's API, passed through) ───────────────────────────────────────────────────────────

export const SagaIdParamsSchema = t.Object({ orderId: OrderId('The order the saga fulfils') });

export const SagaListQuerySchema = t.Object({
  status: t.Optional(t.Union(['running', 'compensating', 'completed', 'compensated', 'parked'].map((s) => t.Literal(s)))),
  limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Sagas per page'),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
});

export const ResolveBodySchema = t.Object(
  { note: t.String({ minLength: 1, maxLength: 500, description: 'What the operator did by hand; kept in the saga’s reason' }) },
  { examples: [{ note: 'refunded by phone' }] },
);

// ── Notifications (the notifications service's API, passed through) ──────────────────────────────────────────

export const NoticeListQuerySchema = t.Object({
  orderId: t.Optional(OrderId('Only this order’s notice (a page of at most one)')),
  limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Notices per page'),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'From the previous page' })),
  kind: t.Optional(t.Union([t.Literal('confirmation'), t.Literal('cancellation')])),
});

// ── Responses ──────────────────────────────────────────────────────────────────────────────────────────────────
// What the panel codes against (panel/src/lib/api/types.ts), with the fields it reads named and the rest kept: a
// field added later is no breaking change.

const open = { additionalProperties: true } as const;
const Nullable = <S extends Parameters<typeof t.Union>[0][number]>(schema: S) => t.Union([schema, t.Null()]);

export const ProcessRowSchema = t.Object(
  {
    name: t.String(),
    pid: Nullable(t.Integer()),
    status: t.String({ description: 'starting, up, down, restarting or stopped' }),
    restarts: t.Integer(),
    uptimeMs: t.Number(),
  },
  open,
);

export const TopologySchema = t.Object(
  {
    processes: t.Array(ProcessRowSchema),
    instances: t.Record(
      t.String(),
      t.Array(t.Object({ id: t.String(), address: t.String(), pid: t.Integer(), requests: t.Integer(), lastSeenMs: t.Number() }, open)),
      { description: 'Per service (and the gateway): its live instances from the registry, with the requests each has served' },
    ),
    nodes: t.Array(t.Object({ nodeId: t.String(), service: t.String(), partitions: t.Array(t.Integer()) }, open)),
    partitions: t.Array(t.Object({ service: t.String(), partition: t.Integer() }, open)),
    redis: t.Object({ ok: t.Boolean() }, open),
    rates: t.Object({}, { ...open, description: 'processedPerSec per service and perSec per service → service link over the last 10 s' }),
  },
  { description: 'The system as the supervisor and the nodes report it' },
);

export const ControlHealthSchema = t.Object({ status: t.Literal('ok'), service: t.String(), pid: t.Integer() });

export const ActorDetailSchema = t.Object(
  {
    address: t.String(),
    state: t.Unknown({ description: 'The machine state' }),
    context: t.Unknown(),
    version: t.Integer({ description: 'Turns committed so far' }),
    machineVersion: t.Integer({ minimum: 1, description: 'The version of the actor type’s definition that wrote the record (1 for records from before versions)' }),
    machine: Nullable(t.Object({}, { ...open, description: 'Its machine as a graph (states, transitions)' })),
    transitions: t.Array(t.Object({}, open), { description: 'The last 50 transitions, newest first' }),
  },
  { ...open, description: 'One actor' },
);

export const MachineGraphSchema = t.Object({}, { ...open, description: 'A machine as a graph: its states and transitions' });

export const SagaPageSchema = t.Object(
  { items: t.Array(t.Object({ orderId: t.String(), status: t.String(), step: t.String() }, open)), cursor: Nullable(t.String()) },
  { description: 'One page of saga summaries (the order service’s answer)' },
);
export const SagaSchema = t.Object(
  { orderId: t.String(), status: t.String(), step: t.String(), log: t.Array(t.Object({}, open)) },
  { ...open, description: 'One saga with its data and log (the order service’s answer)' },
);

export const NoticePageSchema = t.Object(
  {
    items: t.Array(t.Object({ orderId: t.String(), kind: t.String({ description: 'confirmation or cancellation' }), subject: t.String(), sentAt: t.Number() }, open)),
    cursor: Nullable(t.String()),
  },
  { description: 'One page of notices (the notifications service’s answer)' },
);

export const BreakerRowsSchema = t.Array(
  t.Object({ process: t.String(), dependency: t.String(), state: t.String({ description: 'closed, open, halfOpen, forcedOpen, disabled or unreachable' }), reason: t.String() }, open),
  { description: 'One row per breaker of every process' },
);

export const SharedBreakersSchema = t.Array(
  t.Object({
    name: t.String({ description: 'The breaker’s name, the same in every process that shares it (`provider`, `order`, `order@127.0.0.1:3011`)' }),
    state: t.String({ description: 'The shared state: closed, open, halfOpen, forcedOpen or disabled' }),
    version: t.Integer({ description: 'Bumped by every change of the shared record' }),
    trips: t.Integer(),
    openedAt: Nullable(t.Number({ description: 'When it last opened (ms since the epoch)' })),
    cause: t.String({ description: 'What moved it last: created, trip, wait, reopen, closed, evaluated or operator' }),
    instances: t.Array(
      t.Object({
        instance: t.String({ description: 'The process using it (`payment:4242`)' }),
        source: t.String({ description: 'The calling process kind (payment, gateway)' }),
        pid: t.Integer(),
        state: t.String({ description: 'This process’s own view of the breaker' }),
        mode: t.Union([t.Literal('shared'), t.Literal('local')], { description: 'shared: follows the record in Redis; local: cut off from Redis, judging alone' }),
        ageMs: t.Number({ description: 'ms since its last heartbeat (instances silent for 5 s are left out)' }),
      }),
    ),
  }),
  { description: 'One row per shared breaker, with every process using it' },
);

export const DeadLetterRowsSchema = t.Array(
  t.Object(
    {
      service: t.String(),
      partition: t.Integer(),
      id: t.String(),
      event: t.String(),
      deliveries: t.Integer(),
      actorVersion: t.Optional(t.Integer({ minimum: 1, description: 'The version of the actor’s state it failed against: open it with `/control/actors/:address/at/:version`' })),
    },
    open,
  ),
  { description: 'The newest dead letters, newest first' },
);
export const ReplayedSchema = t.Object({ replayed: t.Literal(true), service: t.String(), partition: t.Integer(), id: t.String(), mailboxEntry: t.String() });
export const DiscardedSchema = t.Object({ discarded: t.Literal(true), service: t.String(), partition: t.Integer(), id: t.String() });

export const ChaosRuleSchema = t.Object(
  {
    id: t.String(),
    kind: t.String(),
    target: t.Object({}, open),
    probability: t.Number(),
    latencyMs: t.Optional(t.Object({ min: t.Number(), max: t.Number() })),
    status: t.Optional(t.Integer()),
    createdAt: t.Number(),
    expiresAt: t.Number(),
    note: t.Optional(t.String()),
  },
  { description: 'A failure rule in force' },
);
export const RuleRemovedSchema = t.Object({ removed: t.Literal(true), id: t.String() });
export const RulesClearedSchema = t.Object({ removed: t.Integer({ description: 'How many rules were removed' }) });
export const ScenariosSchema = t.Array(t.Object({ name: t.String(), title: t.String(), description: t.String(), durationMs: t.Integer() }), { description: 'The named scenarios' });
export const ScenarioResultSchema = t.Object(
  { scenario: t.String(), rules: t.Array(ChaosRuleSchema), actions: t.Array(t.Object({ action: t.String(), process: t.String() })) },
  { description: 'The scenario started: its rules and the process commands sent' },
);
export const ProcessCommandSchema = t.Object(
  { accepted: t.Literal(true), action: t.String(), process: t.String(), pid: t.Optional(Nullable(t.Integer())) },
  { description: 'The supervisor has the command; GET /control/topology shows its effect' },
);

export const LoadStatusSchema = t.Object(
  { running: t.Boolean(), ratePerSec: t.Number(), placed: t.Integer(), accepted: t.Integer(), refused: t.Integer({ description: 'Refused 429 OVERLOADED by admission control (not failures: come back later)' }), failed: t.Integer() },
  { ...open, description: 'The order generator' },
);

export const StranglerViewSchema = t.Object(
  { route: t.String(), weight: t.Integer(), updatedAt: Nullable(t.Number()), stale: t.Boolean() },
  { description: 'The gateway’s strangler weight (its answer)' },
);

export const EventsSchema = t.Array(t.Object({ id: t.String(), type: t.String(), at: t.Number() }, open), { description: 'Inspection events with their ids, oldest first' });

export const StatsSchema = t.Object(
  { sagas: t.Object({}, open), ordersPerSec: t.Number(), sagaLatencyMs: t.Object({ p50: Nullable(t.Number()), p99: Nullable(t.Number()) }) },
  { ...open, description: 'Saga counters by outcome, orders per second (10 s), saga latency p50/p99 (60 s)' },
);
