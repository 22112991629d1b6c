/**
 * The control plane's protocol, declared before anything uses it: the `/control/*` request schemas, the response
 * shapes the panel codes against, and the error codes. Every error is `{ code, message, details? }` (the HTTP
 * frame's); every mutating route needs `Authorization: Bearer <token>`.
 */
import { t, type Static } from 'elysia';
import { CHAOS_KINDS, HttpError, KILL_SIGNALS, PROCESS_ACTIONS, type ChaosRule, validationError } from '../../runtime/index.ts';

export const ControlErrorCode = {
  unauthorized: 'UNAUTHORIZED',
  invalidChaosRule: 'INVALID_CHAOS_RULE',
  unknownService: 'UNKNOWN_SERVICE',
  unknownProcess: 'UNKNOWN_PROCESS',
  actorNotFound: 'ACTOR_NOT_FOUND',
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

/** Page sizes: the range and the default of each list's `limit`. */
export const LIMITS = { actors: [1, 500, 50], deadLetters: [1, 500, 100], events: [1, 1_000, 200] } as const;

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
  // would not.
  limit: t.Optional(t.Integer({ description: 'Actors per page, 1–500 (default 50)' })),
});

export const ActorPageSchema = t.Object({
  items: t.Array(t.Object({ address: t.String(), state: t.String() })),
  cursor: t.Union([t.String(), t.Null()], { description: 'null on the last page' }),
});

export const ActorParamsSchema = t.Object({
  service: t.String({ pattern: NAME }),
  type: t.String({ pattern: NAME }),
  id: t.String({ minLength: 1, maxLength: 200, description: 'The actor id (URL-encoded: an id may contain slashes, as %2F)' }),
});

export const MachineParamsSchema = t.Object({ service: t.String({ pattern: NAME }), type: t.String({ pattern: NAME }) });

// ── Dead letters ───────────────────────────────────────────────────────────────────────────────────────────────

export const DeadLetterQuerySchema = t.Object({
  service: t.Optional(t.String({ pattern: NAME })),
  limit: t.Optional(t.Integer({ description: '1–500 (default 100)' })),
});

export const DeadLetterParamsSchema = t.Object({
  service: t.String({ pattern: NAME }),
  partition: t.Integer({ minimum: 0, maximum: 1023 }),
  id: t.String({ pattern: '^\\d{1,20}-\\d{1,20}$', description: 'The dead-letter stream entry id' }),
});

// ── Chaos and processes ────────────────────────────────────────────────────────────────────────────────────────

const LatencySchema = t.Union([
  t.Number({ description: 'A fixed latency, ms' }),
  t.Object({ min: t.Number(), max: t.Number() }, { description: 'A uniform pick in [min, max] ms' }),
]);

export const NewRuleSchema = t.Object({
  kind: t.String({ description: CHAOS_KINDS.join(', ') }),
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
  durationMs: t.Number({ description: 'How long the rule lasts, 1 ms – 24 h' }),
  note: t.Optional(t.String({ maxLength: 200 })),
});
export type NewRule = Static<typeof NewRuleSchema>;

export const ScenarioBodySchema = t.Optional(
  t.Object({ durationMs: t.Optional(t.Integer({ minimum: 1_000, maximum: 3_600_000, description: 'How long its rules last (default 60 s)' })) }),
);

export const ProcessParamsSchema = t.Object({
  name: t.String({ pattern: NAME }),
  action: t.Union(PROCESS_ACTIONS.map((a) => t.Literal(a))),
});

export const ProcessCommandBodySchema = t.Optional(t.Object({ signal: t.Optional(t.Union(KILL_SIGNALS.map((s) => t.Literal(s)), { description: 'For kill (default SIGKILL)' })) }));

export const ServiceParamsSchema = t.Object({ name: t.String({ pattern: NAME }) });

export const PauseBodySchema = t.Object({ seconds: t.Integer({ minimum: 1, maximum: 3_600, description: 'How long its consumers stop reading' }) });

// ── Load and strangler ─────────────────────────────────────────────────────────────────────────────────────────

export const LoadBodySchema = t.Object({
  ratePerSec: t.Number({ minimum: 1, maximum: 500, description: 'Orders per second, 1–500' }),
  durationS: t.Optional(t.Integer({ minimum: 1, maximum: 3_600, description: 'Stop after this long (default: until DELETE)' })),
});

export const StranglerBodySchema = t.Object({ weight: t.Integer({ minimum: 0, maximum: 100, description: 'Percent of GET /api/catalogue served by inventory' }) });

// ── Events ─────────────────────────────────────────────────────────────────────────────────────────────────────

const EVENT_ID = '^(\\d{1,20}-\\d{1,20}(/\\d{1,6})?|0|\\$)$';

export const EventsQuerySchema = t.Object({
  from: t.Optional(t.String({ pattern: EVENT_ID, description: 'Events after this event id (`<entry>/<index>`); default: the latest' })),
  limit: t.Optional(t.Integer({ description: '1–1000 (default 200)' })),
  type: t.Optional(t.String({ maxLength: 500, description: 'Comma-separated event types; `saga.*` matches a family' })),
  source: t.Optional(t.String({ maxLength: 500, description: 'Comma-separated sources (service or process names)' })),
});

export const StreamQuerySchema = t.Object({
  from: t.Optional(t.String({ pattern: EVENT_ID, description: 'Resume after this event id (the Last-Event-ID header wins)' })),
  type: t.Optional(t.String({ maxLength: 500 })),
  source: t.Optional(t.String({ maxLength: 500 })),
});
export const EVENT_ID_PATTERN = new RegExp(EVENT_ID);

/** What `POST /control/chaos/scenarios/:name` answers. */
export type ScenarioResult = { scenario: string; rules: ChaosRule[]; actions: { action: string; process: string }[] };
