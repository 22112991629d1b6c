/**
 * Every Redis key and channel Mailroom uses, named in one place (as bullmq's `queue-keys.ts`). All keys of one
 * partition share the hash tag `{service:p}`, so an atomic turn touches one Redis Cluster slot.
 */

export type PartitionKeys = {
  /** The mailbox stream; consumer group = the service name. */
  mbox: string;
  lease: string;
  fence: string;
  /** Sorted set of processed message ids (score = commit time), the dedup window. */
  seen: string;
  outbox: string;
  /** This partition's slice of the service's event log. */
  events: string;
  /** Stream of a subscriber group's events from this slice that its handler failed on every attempt (with the error). */
  eventDeadLetters(group: string): string;
  /** List of a subscriber group's gaps in this slice (entries trimmed unread) not yet handed to its handler. */
  eventGaps(group: string): string;
  dlq: string;
  timers: string;
  timerData: string;
  effects: string;
  tries: string;
  /** Hash `type/id` → current state, for listing and searching actors. */
  index: string;
  /** Sorted set `type/id` → when a finished actor's record may go (its type's `retainDoneMs`). */
  expiry: string;
  actor(type: string, id: string): string;
  /** List of an actor's last committed versions, newest first (time travel: `node/version-history.ts`). */
  history(type: string, id: string): string;
};

export function partitionKeys(prefix: string, service: string, partition: number): PartitionKeys {
  const base = `${prefix}:{${service}:${partition}}`;
  return {
    mbox: `${base}:mbox`,
    lease: `${base}:lease`,
    fence: `${base}:fence`,
    seen: `${base}:seen`,
    outbox: `${base}:outbox`,
    events: `${base}:events`,
    eventDeadLetters: (group) => `${base}:events:dlq:${group}`,
    eventGaps: (group) => `${base}:events:gaps:${group}`,
    dlq: `${base}:dlq`,
    timers: `${base}:timers`,
    timerData: `${base}:timerdata`,
    effects: `${base}:effects`,
    tries: `${base}:tries`,
    index: `${base}:index`,
    expiry: `${base}:expiry`,
    actor: (type, id) => `${base}:a:${type}:${id}`,
    history: (type, id) => `${base}:h:${type}:${id}`,
  };
}

/** The keys of one shared circuit breaker: one hash tag per breaker, so its Lua scripts stay in one cluster slot. */
export function breakerKeys(prefix: string, breaker: string) {
  const base = `${prefix}:{breaker:${breaker}}`;
  return {
    /** Hash: state, version, openedAt, waitMs, trips, cause (JSON) and the half-open probe counts. */
    state: `${base}:state`,
    /** Hash: the window's totals (count window) or its buckets (time window). */
    window: `${base}:window`,
    /** String: a count window's ring, one byte of outcome bits per call. */
    ring: `${base}:ring`,
    /** Hash instance id → JSON of that process's view of the breaker (its heartbeat). */
    instances: `${base}:instances`,
  };
}

/** Keys that are not per partition. */
export function globalKeys(prefix: string) {
  return {
    /** Capped stream of inspection events (entries hold a JSON array of events). */
    inspect: `${prefix}:inspect`,
    /** Sorted set of a service's live nodes, score = last heartbeat (ms). */
    nodes: (service: string) => `${prefix}:nodes:${service}`,
    /** Set of service names that have ever run a node. */
    services: `${prefix}:services`,
    /** Hash describing one node (service, pid, partitions, started, stats). */
    node: (nodeId: string) => `${prefix}:node:${nodeId}`,
    /** Hash describing a service's runtime config (partitions) and its actor types' machine definitions. */
    service: (service: string) => `${prefix}:service:${service}`,
    /** Pub/sub channel on which a node receives replies to its asks. */
    replies: (nodeId: string) => `${prefix}:reply:${nodeId}`,
    /** Hash process name → JSON of its row in the supervisor's process table (written by the supervisor). */
    processes: `${prefix}:processes`,
    /** List of commands for the supervisor (`kill`, `restart`, …): the control plane pushes, the supervisor pops. */
    supervisorCommands: `${prefix}:supervisor:commands`,
    /** Pub/sub channel on which shared breakers announce a new version (`<breaker> <version>`). */
    breakerNotices: `${prefix}:breaker-notices`,
    /** Set of the names of shared breakers, for listing them. */
    sharedBreakers: `${prefix}:shared-breakers`,
    /** Set (with a short TTL) while a supervisor obeys the commands list: its heartbeat. */
    supervisorAlive: `${prefix}:supervisor:alive`,
    /** Never written: its slot picks the one Redis Cluster master whose `TIME` every process reads (redis-clock.ts). */
    clock: `${prefix}:clock`,
    /** Hash rule id → JSON of a chaos rule in force (or expired, until a reader removes it). */
    chaosRules: `${prefix}:chaos:rules`,
    /** Counter bumped on every change of the chaos rules: what each process's rule book polls. */
    chaosVersion: `${prefix}:chaos:version`,
  };
}
