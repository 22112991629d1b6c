/**
 * The one typed union of inspection events (after xstate's `src/inspection.ts`). Everything the panel shows and the
 * tests check about the running system is one of these: the runtime, the resilience kit, sagas, chaos and the
 * supervisor produce them; the control plane tails them; the panel imports this file as a type.
 *
 * Every event has a `type`, the time it happened (`at`, ms since the epoch) and where it came from (`source`:
 * the service or process name). Adding a kind of event means adding a member here, nowhere else.
 */

type Base<T extends string> = { type: T; at: number; source: string };

/** An actor changed state (or stayed, if the event was not handled: then `from === to` and `handled` is false). */
export type ActorTransitionEvent = Base<'actor.transition'> & {
  actor: string;
  event: string;
  from: string;
  to: string;
  handled: boolean;
  messageId: string;
  reason?: string;
};

export type MessageSentEvent = Base<'message.sent'> & { from?: string; to: string; event: string; messageId: string };
export type MessageReceivedEvent = Base<'message.received'> & {
  actor: string;
  event: string;
  messageId: string;
  latencyMs?: number;
};
export type DeadLetterEvent = Base<'deadletter'> & {
  actor: string;
  event: string;
  messageId: string;
  error: string;
  deliveries: number;
  partition: number;
};
/** The dead-letter stream of a partition reached its cap and dropped its oldest entries. */
export type DeadLettersTrimmedEvent = Base<'deadletter.trimmed'> & { partition: number; count: number; maxLen: number };
export type TimerEvent = Base<'timer.armed' | 'timer.fired' | 'timer.cancelled'> & {
  actor: string;
  timerId: string;
  dueAt: number;
};
/**
 * An actor's record met a definition of another version: `actor.migrated` — an older record was migrated on restore
 * (committed with the actor's next turn); `actor.heldBack` — a record written by a newer version than this node knows
 * (a rolling upgrade): its messages wait, neither applied nor dead-lettered, until a node that knows it takes them.
 */
export type ActorVersionEvent = Base<'actor.migrated' | 'actor.heldBack'> & {
  actor: string;
  actorType: string;
  fromVersion: number;
  toVersion: number;
  /** The state after the migration (`actor.migrated`). */
  state?: string;
  reason?: string;
};
export type NodeEvent = Base<'node.joined' | 'node.left'> & {
  node: string;
  service: string;
  reason?: string;
  /**
   * `node.joined`: the service's partition count, and where it came from — `asked` (the node's options or
   * `MAILROOM_PARTITIONS`), `registered` (the count the service first started with in this Redis, kept over the node's
   * default, which `defaultPartitions` then names) or `default`.
   */
  partitions?: number;
  partitionsFrom?: 'asked' | 'registered' | 'default';
  defaultPartitions?: number;
};
export type LeaseMovedEvent = Base<'lease.moved'> & {
  service: string;
  partition: number;
  from?: string;
  to: string;
  token: number;
};

/** The state names of a circuit breaker machine. */
export type BreakerState = 'closed' | 'open' | 'halfOpen' | 'forcedOpen' | 'disabled';

export type BreakerTransitionEvent = Base<'breaker.transition'> & {
  breaker: string;
  from: BreakerState;
  to: BreakerState;
  reason: string;
  /** Percentages of the window that tripped the breaker (only on closed → open). */
  failureRate?: number;
  slowCallRate?: number;
  calls?: number;
  /** How long the breaker will stay open (only when `to` is `open`). */
  waitMs?: number;
};
export type BreakerRejectedEvent = Base<'breaker.rejected'> & {
  breaker: string;
  state: BreakerState;
  retryAfterMs: number;
};
/**
 * A shared breaker started or stopped using the state it shares through Redis: `local` when Redis cannot be reached
 * (the breaker goes on judging calls on its own, never blocking them), `shared` when it joins or rejoins.
 */
export type BreakerSharingEvent = Base<'breaker.sharing'> & {
  breaker: string;
  mode: 'shared' | 'local';
  reason: string;
};
/** A retry about to happen: `attempt` (2 = the first retry) starts after `delayMs`, because the previous one failed with `error`. */
export type RetryAttemptEvent = Base<'retry.attempt'> & {
  policy: string;
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  error: string;
  /** What the error asked for (`Retry-After`), when it did. */
  retryAfterMs?: number;
};
export type BulkheadRejectedEvent = Base<'bulkhead.rejected'> & {
  bulkhead: string;
  reason: 'queue-full' | 'queue-timeout';
  active: number;
  queued: number;
};

export type SagaStepEvent = Base<'saga.step'> & {
  saga: string;
  sagaId: string;
  step: string;
  phase: 'started' | 'succeeded' | 'failed' | 'timedOut' | 'retrying' | 'compensating' | 'compensated' | 'parked' | 'completed';
  reason?: string;
  durationMs?: number;
};

/** A reply a saga did not act on: it answers an attempt the saga had given up on (it waits for a newer one). */
export type SagaReplyIgnoredEvent = Base<'saga.replyIgnored'> & {
  saga: string;
  sagaId: string;
  /** The step, compensation or completion state the saga is in. */
  step: string;
  /** The reply's type, and the command id it echoed. */
  reply: string;
  commandId: string;
  reason: string;
};

export type ChaosEvent = Base<'chaos.rule' | 'chaos.injected' | 'chaos.action'> & {
  rule?: string;
  kind: string;
  target: string;
  detail?: string;
};

export type ProcessEvent = Base<'process.started' | 'process.exited' | 'process.healthy'> & {
  process: string;
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  restarts?: number;
};

/**
 * An event-log subscriber's group will never see `missed` events (null: unknown how many) of a slice, with stream
 * ids between `after` and `before` (exclusive; null when unknown): they were trimmed before it read them
 * (`trimmed-unread`) or before it acked them (`trimmed-pending`). Its handler gets a gap notice too.
 */
export type SubscriberGapEvent = Base<'subscriber.gap'> & {
  service: string;
  group: string;
  partition: number;
  missed: number | null;
  after: string | null;
  before: string | null;
  reason: 'trimmed-unread' | 'trimmed-pending';
};
/** An event-log subscriber's handler failed on an event `attempts` times: it went to the group's dead letters. */
export type SubscriberDeadLetterEvent = Base<'subscriber.deadletter'> & {
  service: string;
  group: string;
  partition: number;
  eventId: string;
  eventType: string;
  aggregate: string;
  position: string;
  error: string;
  attempts: number;
};

export type InspectionEvent =
  | ActorTransitionEvent
  | MessageSentEvent
  | MessageReceivedEvent
  | DeadLetterEvent
  | DeadLettersTrimmedEvent
  | TimerEvent
  | ActorVersionEvent
  | NodeEvent
  | LeaseMovedEvent
  | BreakerTransitionEvent
  | BreakerRejectedEvent
  | BreakerSharingEvent
  | RetryAttemptEvent
  | BulkheadRejectedEvent
  | SagaStepEvent
  | SagaReplyIgnoredEvent
  | ChaosEvent
  | ProcessEvent
  | SubscriberGapEvent
  | SubscriberDeadLetterEvent;

export type InspectionEventType = InspectionEvent['type'];

/** A listener for inspection events; the runtime, breakers and sagas accept one. */
export type Inspector = (event: InspectionEvent) => void;
