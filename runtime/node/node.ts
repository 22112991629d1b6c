/**
 * A runtime node: hosts a service's actor types, owns some of its partitions through leases, and offers `send`
 * and `ask` to the code around it (HTTP handlers, subscribers, tests). Several nodes of one service share the
 * partitions between them; a node that dies loses its leases within the lease TTL and the others take over.
 */
import { createClient } from 'redis';
import type { ActorDefinition, MailroomEvent } from '../actor/define-actor.ts';
import { parseAddress } from '../address.ts';
import { systemClock, type Clock } from '../clock.ts';
import { keyPrefixOf } from '../config.ts';
import type { InspectionEvent, Inspector } from '../inspection.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import { openLink, type LinkKind, type RedisLink } from '../redis/link.ts';
import { discardDeadLetterAt, listDeadLettersAt, readActorAt, replayDeadLetterAt, type ActorView, type DeadLetter } from '../cluster-view.ts';
import { openRuleBook, type RuleBook } from '../chaos/rule-book.ts';
import { machineGraph } from '../machine-graph.ts';
import { EffectRunner } from './effect-runner.ts';
import { entryFields, newMessageId, type ReplyTo } from './envelope.ts';
import { InspectionWriter } from './inspection-writer.ts';
import { LeaseManager } from './lease-manager.ts';
import { PartitionWorker, type ReplyPayload, type WorkerContext } from './partition-worker.ts';
import { DEFAULT_PARTITIONS, Router } from './router.ts';

export type NodeOptions = {
  service: string;
  actors: readonly ActorDefinition[];
  /** Redis URL; default `REDIS_URL` or redis://127.0.0.1:6379. */
  redis?: string;
  /** Partitions of the service (default 8); every node of a service must agree. */
  partitions?: number;
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
  /** Local listener for every inspection event, including per-message ones. */
  inspect?: Inspector;
  /** Which inspection events are written to the shared capped stream. Default 'transitions'. */
  inspectStream?: 'all' | 'transitions' | 'off';
  clock?: Clock;
  /** Client for the hot path; default node-redis (`MAILROOM_REDIS_CLIENT=bun` for Bun's; see the README). */
  client?: LinkKind;
  /** false: a client node that sends and asks but hosts no partition. Default true. */
  consume?: boolean;
  onError?: (error: unknown, where: string) => void;
  /**
   * Wraps each connection the node opens for its actors: the main one and each partition's doorbell (tests put a
   * fault-injecting link here, see `withFaults`).
   */
  wrapLink?: (link: RedisLink, role: 'main' | 'doorbell') => RedisLink;
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

export class AskTimeoutError extends Error {
  readonly code = 'ASK_TIMEOUT';
  readonly status = 504;
  constructor(
    readonly address: string,
    readonly eventType: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${address} to "${eventType}" within ${timeoutMs} ms (the message stays queued and may still be applied)`);
  }
}

export class AskFailedError extends Error {
  readonly code = 'ASK_FAILED';
  readonly status = 422;
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`${address}: ${message}`);
  }
}

export type { ActorView, DeadLetter };

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
  /** Sends and waits until the turn that processed it committed; resolves with the actor's state then. */
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
  /** Pages through this service's actors (all partitions), optionally filtered by type and an id glob. */
  list(options?: { type?: string; match?: string; cursor?: string; count?: number }): Promise<{ items: { address: string; state: string }[]; cursor: string | null }>;
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

/**
 * Starts a node hosting a service's actor types.
 *
 * @example
 * const node = await createNode({ service: 'shop', actors: [counter], redis: 'redis://127.0.0.1:6379' });
 * await node.send('shop/counter/a', { type: 'inc' });
 * const { context } = await node.ask('shop/counter/a', { type: 'inc' });
 * await node.stop();
 */
export async function createNode(options: NodeOptions): Promise<MailroomNode> {
  const service = options.service;
  parseAddress(`${service}/x/y`);
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const url = options.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new Error(`partitions must be 1–1024, got ${partitions}`);
  const nodeId = options.nodeId ?? `${service}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const ttl = options.leaseTtlMs ?? 3_000;
  const clock = options.clock ?? systemClock;
  const kind = options.client ?? ((process.env.MAILROOM_REDIS_CLIENT as LinkKind | undefined) || 'node-redis');
  const consume = options.consume ?? true;
  const onError =
    options.onError ?? ((error: unknown, where: string) => console.error(`[mailroom ${nodeId}] ${where}: ${error instanceof Error ? error.message : String(error)}`));

  const defs = new Map<string, ActorDefinition>();
  for (const def of options.actors) {
    if (defs.has(def.type)) throw new Error(`actor type "${def.type}" is declared twice`);
    defs.set(def.type, def);
  }

  const wrap = options.wrapLink ?? ((l: RedisLink) => l);
  const link = wrap(await openLink(url, kind), 'main');
  const router = new Router(link, prefix);
  const g = globalKeys(prefix);
  if (consume) {
    await router.register(service, partitions);
    // What the panel draws: each hosted actor type's machine, as a graph.
    const graphs = [...defs.values()].flatMap((def) => [`machine:${def.type}`, JSON.stringify(machineGraph(def.machine))]);
    if (graphs.length) await link.call(['HSET', g.service(service), ...graphs]);
  }

  const listeners = new Set<Inspector>();
  if (options.inspect) listeners.add(options.inspect);
  const writer = new InspectionWriter(link, g.inspect, options.inspectStream ?? 'transitions', onError);
  const inspect = (event: InspectionEvent) => {
    for (const l of listeners) l(event);
    writer.add(event);
  };

  // Replies to asks arrive on this node's channel (or locally, when the actor lives here).
  const pending = new Map<string, { resolve: (p: ReplyPayload) => void; timer: ReturnType<typeof setTimeout> }>();
  const resolveLocal = (to: ReplyTo, payload: ReplyPayload) => {
    if (to.n !== nodeId) return false;
    const waiter = pending.get(to.q);
    if (waiter) {
      pending.delete(to.q);
      clearTimeout(waiter.timer);
      waiter.resolve(payload);
    }
    return true;
  };
  const sub = createClient({ url, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** Math.min(n, 5), 1_000) } });
  sub.on('error', () => {});
  await sub.connect();
  await sub.subscribe(g.replies(nodeId), (message: string) => {
    try {
      const payload = JSON.parse(message) as ReplyPayload;
      resolveLocal({ n: nodeId, q: payload.q }, payload);
    } catch (error) {
      onError(error, 'reading a reply');
    }
  });

  const xadd = async (address: string, fields: string[]) => {
    const { mbox } = await router.locate(address);
    await link.call(['XADD', mbox, '*', ...fields]);
  };
  const effects = new EffectRunner(
    defs,
    (msg) => xadd(msg.address, entryFields({ id: msg.id, address: msg.address, event: msg.event, kind: msg.kind })),
    (error, fx) => onError(error, `delivering the outcome of effect ${fx.key}`),
  );

  const chaos = openRuleBook({ redis: url, keyPrefix: prefix, source: service, inspect });
  const ctx: WorkerContext = {
    service,
    nodeId,
    group: service,
    link,
    openDoorbell: async () => wrap(await openLink(url, kind), 'doorbell'),
    defs,
    router,
    clock,
    settings: {
      batchSize: options.batchSize ?? 200,
      maxDeliveries: options.maxDeliveries ?? 5,
      seenHorizonMs: options.dedupWindowMs ?? 5 * 60_000,
      eventsMaxLen: options.eventsMaxLen ?? 100_000,
      retryBaseMs: options.retryBaseMs ?? 50,
      idleBlockMs: 1_000,
    },
    effects,
    replyChannel: (n) => g.replies(n),
    resolveLocal,
    inspect,
    wantsMessageEvents: () => listeners.size > 0 || writer.mode === 'all',
    onError,
    chaos,
  };

  const workers = new Map<number, PartitionWorker>();
  let stopped = false;
  const leases: LeaseManager = new LeaseManager(link, prefix, service, partitions, nodeId, ttl, clock, {
    acquired(partition, leaseValue, token, previous) {
      const keys = partitionKeys(prefix, service, partition);
      const worker = new PartitionWorker(ctx, partition, keys, leaseValue, (w) => {
        if (workers.get(partition) === w) workers.delete(partition);
        void leases.release(partition);
        inspect({ type: 'lease.moved', at: Date.now(), source: service, service, partition, from: nodeId, to: '(lost)', token });
      });
      workers.set(partition, worker);
      inspect({ type: 'lease.moved', at: Date.now(), source: service, service, partition, from: previous, to: nodeId, token });
      // The worker creates the consumer group itself, retrying while Redis fails: it never holds a dead lease.
      if (!stopped) worker.start();
    },
    lost(partition) {
      const worker = workers.get(partition);
      workers.delete(partition);
      void worker?.stop();
      inspect({ type: 'lease.moved', at: Date.now(), source: service, service, partition, from: nodeId, to: '(lost)', token: 0 });
    },
    yield(partition) {
      const worker = workers.get(partition);
      workers.delete(partition);
      void (worker ? worker.stop() : Promise.resolve()).then(() => leases.release(partition));
    },
  });

  // Counters of the partitions owned now (they restart when a partition moves): readers take rates from deltas.
  const sentTotals = () => {
    const out: Record<string, number> = {};
    for (const w of workers.values()) for (const [svc, n] of w.sentTo) out[svc] = (out[svc] ?? 0) + n;
    return out;
  };
  let ticking: Promise<void> = Promise.resolve();
  const startedAt = Date.now();
  const tick = async () => {
    const info = {
      service,
      pid: String(process.pid),
      startedAt: String(startedAt),
      partitions: JSON.stringify(leases.owned),
      processed: String([...workers.values()].reduce((n, w) => n + w.processed, 0)),
      actors: String([...workers.values()].reduce((n, w) => n + w.cachedActors, 0)),
      sent: JSON.stringify(sentTotals()),
      at: String(Date.now()),
    };
    await leases.tick(info);
    for (const worker of workers.values()) {
      worker.requestPassivation();
      await worker.trim().catch((error) => onError(error, `trimming partition ${worker.partition}`));
    }
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (consume) {
    await tick();
    inspect({ type: 'node.joined', at: Date.now(), source: service, node: nodeId, service });
    timer = setInterval(() => {
      ticking = ticking.then(tick).catch((error) => onError(error, 'lease tick'));
    }, Math.max(100, Math.floor(ttl / 3)));
  }

  const node: MailroomNode = {
    nodeId,
    service,
    partitions,
    keyPrefix: prefix,
    async send(address, event, opts = {}) {
      validateEvent(event);
      const id = opts.id ?? newMessageId();
      await xadd(address, entryFields({ id, address, event, from: opts.from }));
      return id;
    },
    async ask(address, event, opts = {}) {
      validateEvent(event);
      const timeoutMs = opts.timeoutMs ?? 5_000;
      const q = newMessageId();
      const id = opts.id ?? q;
      const answer = new Promise<ReplyPayload>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(q);
          reject(new AskTimeoutError(address, event.type, timeoutMs));
        }, timeoutMs);
        pending.set(q, { resolve, timer: t });
      });
      try {
        await xadd(address, entryFields({ id, address, event, from: opts.from, replyTo: { n: nodeId, q } }));
      } catch (error) {
        const waiter = pending.get(q);
        if (waiter) clearTimeout(waiter.timer);
        pending.delete(q);
        throw error;
      }
      const payload = await answer;
      if (!payload.ok) throw new AskFailedError(address, payload.error ?? 'the message failed');
      return { state: payload.state!, context: payload.context as any, reply: payload.reply, handled: !!payload.handled, duplicate: !!payload.duplicate };
    },
    async read(address) {
      const { service: owner } = parseAddress(address);
      if (owner !== service) throw new Error(`${service} may only read its own actors, not ${address}`);
      return readActorAt(link, prefix, address, partitions);
    },
    async waitFor(address, until, { timeoutMs = 5_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let pause = 2;
      for (;;) {
        const view = await node.read(address);
        if (view && until(view)) return view;
        if (Date.now() >= deadline) throw new AskTimeoutError(address, `(waiting for a state; last: ${view?.state ?? 'none'})`, timeoutMs);
        await Bun.sleep(pause);
        pause = Math.min(50, pause * 2);
      }
    },
    async list({ type, match = '*', cursor, count = 100 } = {}) {
      // cursor = "<partition>:<HSCAN cursor>"
      let [p, c] = cursor ? cursor.split(':').map(Number) as [number, number] : [0, 0];
      const items: { address: string; state: string }[] = [];
      const pattern = `${type ?? '*'}/${match}`;
      while (p < partitions && items.length < count) {
        const [next, flat] = (await link.call(['HSCAN', partitionKeys(prefix, service, p).index, c, 'MATCH', pattern, 'COUNT', Math.max(count, 100)])) as [string, string[]];
        for (let i = 0; i + 1 < flat.length; i += 2) items.push({ address: `${service}/${flat[i]}`, state: flat[i + 1]! });
        c = Number(next);
        if (c === 0) p++;
      }
      return { items, cursor: p < partitions ? `${p}:${c}` : null };
    },
    owned: () => leases.owned,
    inspect,
    chaos,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    deadLetters: {
      list: (opts = {}) => listDeadLettersAt(link, prefix, service, partitions, opts),
      async replay(partition, id) {
        const entry = await replayDeadLetterAt(link, prefix, service, partition, id);
        if (entry === null) throw new AskFailedError(`${service} partition ${partition}`, `no dead letter ${id}`);
        return entry;
      },
      discard: (partition, id) => discardDeadLetterAt(link, prefix, service, partition, id),
    },
    stats: () => ({
      processed: [...workers.values()].reduce((n, w) => n + w.processed, 0),
      cachedActors: [...workers.values()].reduce((n, w) => n + w.cachedActors, 0),
      owned: leases.owned,
      effects: effects.active,
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      await ticking.catch(() => {});
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
      effects.abort();
      if (consume) {
        await leases.leave();
        inspect({ type: 'node.left', at: Date.now(), source: service, node: nodeId, service, reason: 'stopped' });
      }
      chaos.stop();
      await writer.close();
      for (const waiter of pending.values()) clearTimeout(waiter.timer);
      await sub.quit().catch(() => sub.destroy());
      await link.close();
    },
  };
  return node;
}

function validateEvent(event: MailroomEvent): void {
  if (!event || typeof event !== 'object' || typeof event.type !== 'string' || event.type.length === 0) {
    throw new TypeError('an event must be an object with a non-empty string "type"');
  }
}

