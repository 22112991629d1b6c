/**
 * A runtime node: hosts a service's actor types, owns some of its partitions through leases, and offers `send`
 * and `ask` to the code around it (HTTP handlers, subscribers, tests). Several nodes of one service share the
 * partitions between them; a node that dies loses its leases within the lease TTL and the others take over.
 */
import type { ActorDefinition, MailroomEvent } from '../actor/define-actor.ts';
import { parseAddress } from '../address.ts';
import { systemClock, type Clock } from '../clock.ts';
import { deliveryOf, localDeliveryOf, partitionsOf, redisClientOf, redisUrlOf, keyPrefixOf } from '../config.ts';
import { registeredPartitionCount } from '../event-log/partitions.ts';
import type { InspectionEvent, Inspector } from '../inspection.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import { openLink, type LinkKind, type RedisLink } from '../redis/link.ts';
import { openRuleBook, type RuleBook } from '../chaos/rule-book.ts';
import { withFaults } from '../redis/fault-link.ts';
import { machineGraph } from '../machine-graph.ts';
import { countInspection } from '../observe/inspection-metrics.ts';
import { sendTraceparent, startTracing, tracing } from '../observe/tracing.ts';
import { effectsRunning, mailboxPending, mailboxUndelivered, nodesGauge, onScrape, partitionsOwned } from '../observe/metrics.ts';
import { openAdmission, type Admission } from '../admission/admission.ts';
import type { Delivery } from './batch-commit.ts';
import { pageActorIndex, readActorAt } from './actor-index.ts';
import { AskFailedError, AskTimeoutError, listenForReplies, PendingAsks, replyModeOf } from './asks.ts';
import { discardDeadLetterAt, listDeadLettersAt, replayDeadLetterAt } from './dead-letter-store.ts';
import { EffectRunner } from './effect-runner.ts';
import { entryFields, newMessageId, type ReplyTo } from './envelope.ts';
import { InspectionWriter } from './inspection-writer.ts';
import type { MailroomNode, NodeOptions } from './node-api.ts';
import { LeaseManager } from './lease-manager.ts';
import { RedisClock } from '../redis/redis-clock.ts';
import { RegistryField } from './registry.ts';
import { PartitionWorker, type ReplyPayload, type WorkerContext } from './partition-worker.ts';
import { checkReplicas, commitReplicasFromEnv, ReplicaWait } from './replica-wait.ts';
import { DEFAULT_PARTITIONS, Router } from './router.ts';
import { isClusterUrl } from '../redis/cluster-url.ts';
export type { ActorPage, ActorView, AskResult, DeadLetter, MailroomNode, NodeOptions, SendOptions } from './node-api.ts';
export { AskFailedError, AskTimeoutError } from './asks.ts';

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
  const url = options.redis ?? redisUrlOf();
  const asked = options.partitions ?? partitionsOf();
  const checkCount = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`${what} must be 1–1024, got ${n}`);
  };
  if (asked !== undefined) checkCount(asked, 'partitions');
  if (options.defaultPartitions !== undefined) checkCount(options.defaultPartitions, 'defaultPartitions');
  const nodeId = options.nodeId ?? `${service}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const ttl = options.leaseTtlMs ?? 3_000;
  // Set to Redis's clock: what this node writes (timer due times, heartbeats) is read against other nodes' clocks.
  const clock = new RedisClock(options.clock ?? systemClock, globalKeys(prefix).clock);
  const kind: LinkKind = options.client ?? redisClientOf();
  const fromEnv = commitReplicasFromEnv();
  const replicas = options.commitReplicas ?? fromEnv.replicas;
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) throw new Error(`commitReplicas must be 0–5, got ${replicas}`);
  const delivery = deliveryFor(options.delivery ?? deliveryOf(), replicas, isClusterUrl(url));
  const consume = options.consume ?? true;
  const onError =
    options.onError ?? ((error: unknown, where: string) => console.error(`[mailroom ${nodeId}] ${where}: ${error instanceof Error ? error.message : String(error)}`));

  const defs = new Map<string, ActorDefinition>();
  for (const def of options.actors) {
    if (defs.has(def.type)) throw new Error(`actor type "${def.type}" is declared twice`);
    defs.set(def.type, def);
  }

  // Before the first message: a node that consumed untraced until its process's HTTP app started tracing would drop traces.
  await startTracing(service);
  // The chaos rules come first: `redis` rules may wrap the node's own connections. The book reads them on a
  // connection of its own, so faults on the node's links never hide the rule that heals them.
  let inspect: (event: InspectionEvent) => void = () => {};
  const chaos = openRuleBook({ redis: url, keyPrefix: prefix, source: service, inspect: (e) => inspect(e), clock });
  const wrap = options.wrapLink ?? (chaosRedisEnabled(options) ? redisChaos(chaos, service, clock) : (l: RedisLink) => l);
  const link = wrap(await openLink(url, kind), 'main');
  let replicaWait: ReplicaWait | null = null;
  if (replicas > 0) {
    try {
      await checkReplicas(link, url, replicas);
    } catch (error) {
      chaos.stop();
      await link.close();
      throw error;
    }
    replicaWait = new ReplicaWait(wrap(await openLink(url, kind), 'main'), replicas, options.commitReplicasTimeoutMs ?? fromEnv.timeoutMs);
  }
  await clock.sync(link);
  const router = new Router(link, prefix);
  const g = globalKeys(prefix);
  // Not told a count: the one the service already runs with, else the default — so a changed default never stops the
  // nodes of a service registered under the old one.
  const registered = asked === undefined ? await registeredPartitionCount(link, prefix, service) : undefined;
  const defaultPartitions = options.defaultPartitions ?? DEFAULT_PARTITIONS;
  const partitions = asked ?? registered ?? defaultPartitions;
  const partitionsFrom = asked !== undefined ? 'asked' : registered !== undefined ? 'registered' : 'default';
  if (consume) {
    await router.register(service, partitions);
    // What the panel draws: each hosted actor type's machine, as a graph.
    const graphs = [...defs.values()].flatMap((def) => [`machine:${def.type}`, JSON.stringify(machineGraph(def.machine))]);
    if (graphs.length) await link.call(['HSET', g.service(service), ...graphs]);
  }

  const listeners = new Set<Inspector>();
  if (options.inspect) listeners.add(options.inspect);
  const writer = new InspectionWriter(link, g.inspect, options.inspectStream ?? 'transitions', onError);
  inspect = (event: InspectionEvent) => {
    countInspection(event);
    for (const l of listeners) l(event);
    writer.add(event);
  };

  // Replies to asks arrive on this node's channel (or locally, when the actor lives here).
  const asks = new PendingAsks(nodeId);
  const resolveLocal = (to: ReplyTo, payload: ReplyPayload) => asks.resolve(to, payload);
  const stopListening = await listenForReplies(url, g.replies(nodeId), asks, nodeId, onError);
  // Asks are where work enters from outside (HTTP handlers): refused while the service asked is too far behind.
  const admission: Admission | null = options.admission ? await openAdmission({ bounds: options.admission, redis: url, keyPrefix: prefix, onError }) : null;

  // Appends a message's entry to its mailbox. Entries leave in the order the sends were made (a sender's messages
  // arrive in order): a send whose mailbox must be looked up first (an address not located lately) holds every later
  // send back until its own entry has been sent — not answered — and such sends look up one after another. With none
  // waiting, a send whose mailbox is known goes at once, with no promise of its own: every send's path.
  let lookingUp = 0;
  let lastLookUp: Promise<unknown> = Promise.resolve();
  const xadd = (address: string, fields: string[], confirm = true): Promise<unknown> => {
    const mbox = lookingUp === 0 ? router.recentMailbox(address) : undefined;
    if (mbox !== undefined) return append(mbox, address, fields, confirm);
    lookingUp++;
    const located = lastLookUp.then(() => router.locate(address));
    // One callback counts the send out and sends it, so no send can slip in between.
    const sent = located.then(
      (found) => {
        lookingUp--;
        return append(found.mbox, address, fields, confirm);
      },
      (error: unknown) => {
        lookingUp--;
        throw error;
      },
    );
    // The next send that looks up starts once this one's entry has gone (its callback above runs first).
    lastLookUp = located.then(noop, noop);
    return sent;
  };
  const append = (mbox: string, address: string, fields: string[], confirm: boolean): Promise<unknown> =>
    replicaWait && confirm ? appendConfirmed(replicaWait, mbox, address, fields) : link.call(['XADD', mbox, '*', ...fields]);
  // A message said to be in the mailbox must survive its master's failover. (An ask needs no wait: its answer comes
  // from a commit that waited, and an ask whose message a failover lost times out as any lost reply does.)
  const appendConfirmed = async (wait: ReplicaWait, mbox: string, address: string, fields: string[]): Promise<void> => {
    await wait.link.call(['XADD', mbox, '*', ...fields]);
    await wait.confirm(mbox, `the message to ${address}`);
  };
  const effects = new EffectRunner(
    defs,
    (msg) => xadd(msg.address, entryFields({ id: msg.id, address: msg.address, event: msg.event, kind: msg.kind, traceparent: msg.traceparent })),
    (error, fx) => onError(error, `delivering the outcome of effect ${fx.key}`),
    service,
  );

  const ctx: WorkerContext = {
    service,
    nodeId,
    group: service,
    link,
    openDoorbell: async () => wrap(await openLink(url, kind, { blocking: true }), 'doorbell'),
    defs,
    router,
    clock,
    settings: {
      batchSize: options.batchSize ?? 200,
      maxDeliveries: options.maxDeliveries ?? 5,
      seenHorizonMs: options.dedupWindowMs ?? 5 * 60_000,
      eventsMaxLen: options.eventsMaxLen ?? 100_000,
      deadLettersMaxLen: options.deadLettersMaxLen ?? 100_000,
      retryBaseMs: options.retryBaseMs ?? 50,
      idleBlockMs: 1_000,
    },
    effects,
    replyChannel: (n) => g.replies(n),
    // With replicas to wait for, a reply leaves after the wait, so never from inside the commit script.
    replies: replicaWait ? 'after' : replyModeOf(url),
    replyCommand: isClusterUrl(url) ? 'SPUBLISH' : 'PUBLISH',
    delivery,
    // Behind a relay a sender's earlier messages may still sit in the outbox: only a commit that delivers them keeps order.
    localDelivery: delivery === 'commit' && (options.localDelivery ?? localDeliveryOf()),
    replicaWait,
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
        // Its own lease only: the node may hold a newer one for this partition by now.
        void leases.release(partition, w.leaseValue);
        inspect({ type: 'lease.moved', at: clock.now(), source: service, service, partition, from: nodeId, to: '(lost)', token });
      });
      workers.set(partition, worker);
      inspect({ type: 'lease.moved', at: clock.now(), source: service, service, partition, from: previous, to: nodeId, token });
      // The worker creates the consumer group itself, retrying while Redis fails: it never holds a dead lease.
      if (!stopped) worker.start();
    },
    lost(partition) {
      const worker = workers.get(partition);
      workers.delete(partition);
      void worker?.stop();
      inspect({ type: 'lease.moved', at: clock.now(), source: service, service, partition, from: nodeId, to: '(lost)', token: 0 });
    },
    yield(partition) {
      const worker = workers.get(partition);
      const leaseValue = worker?.leaseValue ?? leases.leaseValue(partition);
      workers.delete(partition);
      void (worker ? worker.stop() : Promise.resolve()).then(() => (leaseValue ? leases.release(partition, leaseValue) : undefined));
    },
  });

  // Counters of the partitions owned now (they restart when a partition moves): readers take rates from deltas.
  const sentTotals = () => {
    const out: Record<string, number> = {};
    for (const w of workers.values()) for (const [svc, n] of w.sentTo) out[svc] = (out[svc] ?? 0) + n;
    return out;
  };
  let ticking: Promise<void> = Promise.resolve();
  const startedAt = clock.now();
  const tick = async () => {
    const info = {
      ...options.describe?.(),
      ...(options.advertise ? { [RegistryField.http]: options.advertise } : {}),
      service,
      pid: String(process.pid),
      startedAt: String(startedAt),
      partitions: JSON.stringify(leases.owned),
      processed: String([...workers.values()].reduce((n, w) => n + w.processed, 0)),
      actors: String([...workers.values()].reduce((n, w) => n + w.cachedActors, 0)),
      sent: JSON.stringify(sentTotals()),
      at: String(clock.now()),
    };
    // Beside the tick, not before it: a lease renewal never waits for a clock sample.
    await Promise.all([leases.tick(info), clock.sync(link).catch((error) => onError(error, "reading Redis's clock"))]);
  };
  // Passivation and mailbox trims run on their own timer, so they never delay a lease renewal.
  let housekeeping: Promise<void> | null = null;
  const houseKeep = async () => {
    for (const worker of [...workers.values()]) {
      worker.requestPassivation();
      await worker.trim().catch((error) => onError(error, `trimming partition ${worker.partition}`));
    }
  };
  // Gauges read when Prometheus scrapes: the backlog of each partition this node owns, its effects, its view of the cluster.
  const stopScrape = onScrape(async () => {
    effectsRunning.labels(service).set(effects.active);
    partitionsOwned.labels(service).set(leases.owned.length);
    if (consume) nodesGauge.labels(service).set(leases.liveNodes.length);
    await Promise.all(
      [...workers.values()].map(async (w) => {
        const groups = (await link.call(['XINFO', 'GROUPS', w.keys.mbox])) as unknown[];
        for (const g of groups) {
          const rec = Array.isArray(g) ? Object.fromEntries(pairsOfFlat(g as unknown[])) : (g as Record<string, unknown>);
          if (rec.name !== ctx.group) continue;
          mailboxUndelivered.labels(service, String(w.partition)).set(Number(rec.lag ?? 0));
          mailboxPending.labels(service, String(w.partition)).set(Number(rec.pending ?? 0));
        }
      }),
    );
  });
  let timer: ReturnType<typeof setInterval> | undefined;
  let houseTimer: ReturnType<typeof setInterval> | undefined;
  if (consume) {
    await tick();
    // Says where the count came from: a service registered under an older default keeps its count silently otherwise.
    inspect({
      type: 'node.joined',
      at: clock.now(),
      source: service,
      node: nodeId,
      service,
      partitions,
      partitionsFrom,
      ...(partitionsFrom === 'registered' && registered !== defaultPartitions ? { defaultPartitions } : {}),
    });
    const every = Math.max(100, Math.floor(ttl / 3));
    timer = setInterval(() => {
      ticking = ticking.then(tick).catch((error) => onError(error, 'lease tick'));
    }, every);
    houseTimer = setInterval(() => {
      housekeeping ??= houseKeep().finally(() => (housekeeping = null));
    }, every);
  }

  const node: MailroomNode = {
    nodeId,
    service,
    partitions,
    keyPrefix: prefix,
    async send(address, event, opts = {}) {
      validateEvent(event);
      const id = opts.id ?? newMessageId();
      await xadd(address, entryFields({ id, address, event, from: opts.from, traceparent: tracing.on ? sendTraceparent(event.type) : undefined }));
      return id;
    },
    async ask(address, event, opts = {}) {
      validateEvent(event);
      admission?.gate.admit([address.slice(0, address.indexOf('/'))]);
      const timeoutMs = opts.timeoutMs ?? 5_000;
      const { replyTo, answer } = asks.open(address, event.type, timeoutMs);
      try {
        await xadd(address, entryFields({ id: opts.id ?? replyTo.q, address, event, from: opts.from, replyTo, traceparent: tracing.on ? sendTraceparent(event.type) : undefined }), false);
      } catch (error) {
        asks.cancel(replyTo.q);
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
      const deadline = clock.now() + timeoutMs;
      let pause = 2;
      for (;;) {
        const view = await node.read(address);
        if (view && until(view)) return view;
        if (clock.now() >= deadline) throw new AskTimeoutError(address, `(waiting for a state; last: ${view?.state ?? 'none'})`, timeoutMs);
        await Bun.sleep(pause);
        pause = Math.min(50, pause * 2);
      }
    },
    list({ type, match, where, cursor, count = 100, maxScans } = {}) {
      return pageActorIndex(link, prefix, [service], async () => partitions, { type, match, where, cursor, limit: count, maxScans });
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
      stopScrape();
      if (timer) clearInterval(timer);
      if (houseTimer) clearInterval(houseTimer);
      await ticking.catch(() => {});
      await housekeeping;
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
      effects.abort();
      if (consume) {
        await leases.leave();
        inspect({ type: 'node.left', at: clock.now(), source: service, node: nodeId, service, reason: 'stopped' });
      }
      chaos.stop();
      await writer.close();
      asks.clear();
      await admission?.close();
      await stopListening();
      await replicaWait?.link.close();
      await link.close();
    },
  };
  return node;
}

/** Whether `redis` chaos rules may wrap this node's connections (`chaosRedis`, or `MAILROOM_CHAOS_REDIS=1`). */
function chaosRedisEnabled(options: NodeOptions): boolean {
  return options.chaosRedis ?? process.env.MAILROOM_CHAOS_REDIS === '1';
}

/** Wraps each link in a fault link driven by the service's `redis` chaos rules (no fault while none is active). */
function redisChaos(book: RuleBook, service: string, clock: Clock) {
  let seed = Math.floor(Math.random() * 2 ** 31);
  return (link: RedisLink): RedisLink =>
    withFaults(link, {
      seed: seed++,
      probability: {},
      probabilityOf: () => book.redisFaults(service),
      onInjected: (fault, command) => book.redisFaultInjected(service, fault, command),
      clock,
    });
}

function pairsOfFlat(flat: unknown[]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

const noop = () => {};

function validateEvent(event: MailroomEvent): void {
  if (!event || typeof event !== 'object' || typeof event.type !== 'string' || event.type.length === 0) {
    throw new TypeError('an event must be an object with a non-empty string "type"');
  }
}

/**
 * How this node's committed messages reach their mailboxes: as asked, else `commit` on one Redis and `relay` on a
 * cluster (a mailbox lives in another slot than the commit) or with commit replicas (nothing may leave before the
 * replicas have it) — where `commit` is refused.
 */
function deliveryFor(asked: Delivery | undefined, replicas: number, cluster: boolean): Delivery {
  if (asked !== undefined && asked !== 'relay' && asked !== 'commit') throw new Error(`delivery must be "commit" or "relay", got ${JSON.stringify(asked)}`);
  if (asked === 'commit' && cluster) {
    throw new Error('delivery "commit" needs one Redis: on a cluster a mailbox lives in another slot than the commit, so messages are relayed (delivery "relay")');
  }
  if (asked === 'commit' && replicas > 0) {
    throw new Error('delivery "commit" cannot wait for replicas before a message leaves: with commitReplicas, messages are relayed (delivery "relay")');
  }
  return asked ?? (cluster || replicas > 0 ? 'relay' : 'commit');
}
