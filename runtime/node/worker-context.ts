/** What a partition worker gets from its node: connections, definitions, settings and the node's callbacks. */
import type { ActorDefinition } from '../actor/define-actor.ts';
import type { RuleBook } from '../chaos/rule-book.ts';
import type { Clock } from '../clock.ts';
import type { InspectionEvent } from '../inspection.ts';
import type { RedisLink } from '../redis/link.ts';
import type { ReplyPayload } from './batch.ts';
import type { Delivery } from './batch-commit.ts';
import type { EffectRunner } from './effect-runner.ts';
import type { ReplyTo } from './envelope.ts';
import type { ReplyMode } from './asks.ts';
import type { ReplicaWait } from './replica-wait.ts';
import type { Router } from './router.ts';

export type WorkerSettings = {
  batchSize: number;
  maxDeliveries: number;
  seenHorizonMs: number;
  eventsMaxLen: number;
  deadLettersMaxLen: number;
  retryBaseMs: number;
  idleBlockMs: number;
};

export type WorkerContext = {
  service: string;
  nodeId: string;
  group: string;
  link: RedisLink;
  openDoorbell(): Promise<RedisLink>;
  defs: ReadonlyMap<string, ActorDefinition>;
  router: Router;
  clock: Clock;
  settings: WorkerSettings;
  effects: EffectRunner;
  replyChannel(nodeId: string): string;
  /**
   * How replies to other nodes' asks leave: `script` (PUBLISH inside the commit script, one Redis) or `after`
   * (SPUBLISH once the commit succeeded, on a cluster: a sharded channel lives in the asker's slot, not the partition's).
   */
  replies: ReplyMode;
  /** How a reply leaves when the worker publishes it (`replies: 'after'`): SPUBLISH on a cluster, else PUBLISH. */
  replyCommand: 'PUBLISH' | 'SPUBLISH';
  /** How a committed turn's messages reach their mailboxes (see `Delivery`). */
  delivery: Delivery;
  /** Whether a message to an actor of the same partition is applied in the batch that sent it (`BatchApplier.applyLocal`). */
  localDelivery: boolean;
  /**
   * With `MAILROOM_COMMIT_REPLICAS`: the link commits and relays go through, and the wait for their replicas before
   * anything they caused leaves. Null: off (commits go through `link`, and what they cause leaves at once).
   */
  replicaWait: ReplicaWait | null;
  /** Resolves an ask of this node; false when the asker is another node. */
  resolveLocal(replyTo: ReplyTo, payload: ReplyPayload): boolean;
  inspect(event: InspectionEvent): void;
  /** Whether anybody listens to per-message inspection events (they cost a little on the hot path). */
  wantsMessageEvents(): boolean;
  onError(error: unknown, where: string): void;
  /** Failure injection rules (chaos) this node applies to the messages it receives. */
  chaos: RuleBook;
};

