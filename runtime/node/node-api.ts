/**
 * What a runtime node offers the code around it, and how it is configured: `createNode` (in `node.ts`) builds one.
 */
import type { ActorDefinition, MailroomEvent } from '../actor/define-actor.ts';
import type { AdmissionBounds } from '../admission/admission-bounds.ts';
import type { Clock } from '../clock.ts';
import type { RuleBook } from '../chaos/rule-book.ts';
import type { InspectionEvent, Inspector } from '../inspection.ts';
import type { LinkKind, RedisLink } from '../redis/link.ts';
import type { ActorPage, ActorView } from './actor-index.ts';
import type { Delivery } from './batch-commit.ts';
import type { DeadLetter } from './dead-letter-store.ts';

export type NodeOptions = {
  service: string;
  actors: readonly ActorDefinition[];
  /** Redis URL; default `REDIS_URL` or redis://127.0.0.1:6379. */
  redis?: string;
  /**
   * Partitions of the service (default `MAILROOM_PARTITIONS`); every node of a service must agree. Unset, a node takes
   * the count its service already runs with, else `defaultPartitions`.
   */
  partitions?: number;
  /** The count for a service no node has registered yet, when `partitions` is unset. Default 8. */
  defaultPartitions?: number;
  /** Prefix of every key (default `MAILROOM_PREFIX` or `mr`). */
  keyPrefix?: string;
  nodeId?: string;
  /** Lease time-to-live: a dead node's partitions move after about this long. Default 3,000 ms. */
  leaseTtlMs?: number;
  /** Deliveries of a message whose turn throws before it goes to the dead letters. Default 5. */
  maxDeliveries?: number;
  /** First retry delay after a throwing turn, doubling each time. Default 50 ms. */
  retryBaseMs?: number;
  /** Messages per committed batch, at most. Default 200. */
  batchSize?: number;
  /** How long processed message ids are remembered for dropping duplicates. Default 5 min. */
  dedupWindowMs?: number;
  /** Approximate cap of each partition's slice of the event log. Default 100,000 entries. */
  eventsMaxLen?: number;
  /**
   * Approximate cap of each partition's dead-letter stream. Default 100,000 entries; when the cap drops the oldest
   * ones, a `deadletter.trimmed` inspection event says how many.
   */
  deadLettersMaxLen?: number;
  /** Local listener for every inspection event, including per-message ones. */
  inspect?: Inspector;
  /** Which inspection events are written to the shared capped stream. Default 'transitions'. */
  inspectStream?: 'all' | 'transitions' | 'off';
  /** Time and timers (default: the wall clock). The node shifts its `now()` to Redis's clock (see redis-clock.ts). */
  clock?: Clock;
  /** Client of the node's own connections; default Bun's `RedisClient` (`MAILROOM_REDIS_CLIENT=node-redis` for node-redis; see the README). */
  client?: LinkKind;
  /** false: a client node that sends and asks but hosts no partition. Default true. */
  consume?: boolean;
  onError?: (error: unknown, where: string) => void;
  /**
   * Wraps each Redis link the node opens — its main link and each partition's doorbell — e.g. with a
   * fault-injecting link in tests (`role` says which one).
   */
  wrapLink?: (link: RedisLink, role: 'main' | 'doorbell') => RedisLink;
  /**
   * Lets the chaos rules of kind `redis` make this node's connections to Redis misbehave (calls that fail, lost
   * replies, resets, latency, stalls). Off by default: the wrapper costs a little on every call. Default
   * `MAILROOM_CHAOS_REDIS=1`; `bun run dev` and the chaos run turn it on.
   */
  chaosRedis?: boolean;
  /**
   * Admission control for `ask`: while the asked actor's service has more entries waiting in one partition's
   * mailbox than `maxBacklog`, or its oldest waiting entry is older than `maxAgeMs`, `ask` throws
   * `AdmissionRefusedError` (429 `OVERLOADED`, with `retryAfterMs`) before sending anything; 503 when the backlog
   * cannot be read. Off by default (`admissionBoundsFromEnv()` gives the environment's bounds); `send` and the
   * messages actors tell each other are never refused — work once admitted is finished.
   */
  admission?: AdmissionBounds | null;
  /**
   * The HTTP address (`host:port`) where callers reach this node's process, written into its registry entry with
   * every heartbeat so discovery clients find it (see `advertisedAddress`). Unset: the node is not discoverable.
   */
  advertise?: string;
  /** More fields for the node's registry entry, read at every heartbeat (e.g. requests served). */
  describe?: () => Record<string, string>;
  /**
   * Replicas that must have a turn's commit before its replies, relayed messages and effects leave (`WAIT`
   * after the commit, on the partition's master). 0: off. Default `MAILROOM_COMMIT_REPLICAS` (0). A commit
   * fewer replicas confirmed within `commitReplicasTimeoutMs` is an unknown outcome: the worker takes its
   * partition over again and lets nothing out until a replica has it. A Redis without that many replicas is
   * refused at start (see `runtime/node/replica-wait.ts` and docs/cluster.md).
   */
  commitReplicas?: number;
  /** How long a commit waits for its replicas. Default `MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS`, else 500 ms. */
  commitReplicasTimeoutMs?: number;
  /**
   * How a turn's messages reach their mailboxes: `commit` (the commit script appends them itself) or `relay`
   * (through the partition's outbox, relayed once the commit answered). Default `commit` on one Redis; a cluster
   * (other slots) and `commitReplicas` (nothing leaves before the replicas have it) always relay, and refuse `commit`.
   */
  delivery?: Delivery;
  /**
   * Whether a message a turn sends to an actor of the same partition is applied in the same batch, its turn committed
   * with the sender's, rather than appended to the mailbox and read back (only with delivery `commit`). Default
   * `MAILROOM_LOCAL_DELIVERY` (on). See docs/architecture.md#local-delivery.
   */
  localDelivery?: boolean;
};

export type AskResult<TContext = any> = {
  state: string;
  context: TContext;
  /** What the machine passed to `reply(...)`, if it did. */
  reply?: unknown;
  /** Whether the event changed anything. */
  handled: boolean;
  /** The message had been processed before (same id): nothing was applied now. */
  duplicate: boolean;
};

export type { ActorPage, ActorView, DeadLetter };

export type SendOptions = {
  /** Message id: the dedup key. Pass a stable one (e.g. an idempotency key) to make retries safe. */
  id?: string;
  /** The sending actor's address, for tracing. */
  from?: string;
};

export interface MailroomNode {
  readonly nodeId: string;
  readonly service: string;
  readonly partitions: number;
  readonly keyPrefix: string;
  /** Queues an event for an actor (of any service). Resolves with the message id once it is in the mailbox. */
  send(address: string, event: MailroomEvent, options?: SendOptions): Promise<string>;
  /**
   * Sends and waits until the turn that processed it committed; resolves with the actor's state then. With
   * `admission` set, throws `AdmissionRefusedError` at once (nothing sent) while the actor's service is overloaded.
   */
  ask<TContext = any>(address: string, event: MailroomEvent, options?: SendOptions & { timeoutMs?: number }): Promise<AskResult<TContext>>;
  /**
   * The committed state of one of this service's actors, read straight from Redis (no message, no activation);
   * null when the actor has never committed a turn.
   */
  read<TContext = any>(address: string): Promise<ActorView<TContext> | null>;
  /**
   * Waits until one of this service's actors has committed a state that satisfies `until` (e.g. a reservation
   * that is no longer `holding`), polling its committed state. Throws `AskTimeoutError` after `timeoutMs`.
   */
  waitFor<TContext = any>(address: string, until: (view: ActorView<TContext>) => boolean, options?: { timeoutMs?: number }): Promise<ActorView<TContext>>;
  /**
   * Pages through this service's actors (all partitions), optionally filtered by type, an id glob and their indexed
   * state. A page holds exactly `count` items (default 100) unless the index is exhausted or `maxScans` HSCAN calls
   * ran out; the cursor is null only once the scan is complete. Throws `InvalidCursorError` for a foreign cursor.
   */
  list(options?: { type?: string; match?: string; where?: (state: string) => boolean; cursor?: string; count?: number; maxScans?: number }): Promise<ActorPage>;
  /** Partitions this node owns now. */
  owned(): number[];
  /**
   * Records an inspection event from the code around the node (e.g. a breaker's transitions): local listeners get
   * it, and the shared stream the panel follows.
   */
  inspect(event: InspectionEvent): void;
  /** The failure-injection rules this process follows; hand `chaos.forHttpClient(name)` to HTTP clients. */
  readonly chaos: RuleBook;
  /** Subscribes to this node's inspection events (all of them, including per-message ones). */
  subscribe(listener: Inspector): () => void;
  readonly deadLetters: {
    list(options?: { partition?: number; count?: number }): Promise<DeadLetter[]>;
    replay(partition: number, id: string): Promise<string>;
    discard(partition: number, id: string): Promise<boolean>;
  };
  stats(): { processed: number; cachedActors: number; owned: number[]; effects: number };
  /** Stops consuming, hands its partitions back and closes its connections. */
  stop(): Promise<void>;
}