/**
 * The loop that owns one partition while this node holds its lease: read a batch (pending entries first, fenced
 * by the lease), run every message through its actor, and commit the whole batch in one Lua call — snapshots,
 * acks, processed markers, outgoing messages, events, timers, effects, dead letters and replies. After the commit
 * it relays outgoing messages, starts effects and answers local asks. Any rejected commit drops the partition's
 * cached actors, because the in-memory actors ran ahead of Redis.
 */
import type { ActorDefinition } from '../actor/define-actor.ts';
import { ActorStepError, HostedActor, type ActorRecord, type StepOutput } from '../actor/hosted-actor.ts';
import { parseAddress, partitionOf } from '../address.ts';
import type { Clock } from '../clock.ts';
import type { InspectionEvent } from '../inspection.ts';
import type { PartitionKeys } from '../keys.ts';
import { InjectedFault } from '../chaos/chaos-rule.ts';
import type { RuleBook } from '../chaos/rule-book.ts';
import type { RedisLink } from '../redis/link.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import type { EffectRecord, EffectRunner } from './effect-runner.ts';
import { MalformedEntryError, newMessageId, parseEntry, preciseNow, replyToOf, type Envelope, type ReplyTo } from './envelope.ts';
import type { Router } from './router.ts';

export type WorkerSettings = {
  batchSize: number;
  maxDeliveries: number;
  seenHorizonMs: number;
  eventsMaxLen: number;
  retryBaseMs: number;
  idleBlockMs: number;
};

export type ReplyPayload = {
  q: string;
  ok: boolean;
  state?: string;
  context?: unknown;
  reply?: unknown;
  handled?: boolean;
  duplicate?: boolean;
  error?: string;
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
  /** Resolves an ask of this node; false when the asker is another node. */
  resolveLocal(replyTo: ReplyTo, payload: ReplyPayload): boolean;
  inspect(event: InspectionEvent): void;
  /** Whether anybody listens to per-message inspection events (they cost a little on the hot path). */
  wantsMessageEvents(): boolean;
  onError(error: unknown, where: string): void;
  /** Failure injection rules (chaos) this node applies to the messages it receives. */
  chaos: RuleBook;
};

const MESSAGE_FAULTS = ['drop', 'duplicate', 'error', 'latency', 'delay'] as const;

type RawEntry = [id: string, fields: string[], deliveries: number];

type OutMsg = { mbox: string; fields: string[] };

/** Everything one batch will commit. */
class Batch {
  acks: string[] = [];
  seen: string[] = [];
  seenInBatch = new Set<string>();
  dirty = new Set<HostedActor>();
  outbox: OutMsg[] = [];
  events: string[] = [];
  timers = new Map<string, [due: number, data: string] | null>();
  effectsSet: EffectRecord[] = [];
  effectsDel: string[] = [];
  triesDel: string[] = [];
  deadLetters: string[][] = [];
  replies: { to: ReplyTo; payload: ReplyPayload }[] = [];
  inspections: InspectionEvent[] = [];
  received: Envelope[] = [];
  blocked = new Set<string>();
  failures: { env: Envelope; error: ActorStepError }[] = [];
  /** Chaos: extra latency before this batch commits, and copies of entries to deliver again. */
  delayMs = 0;
  copies: string[][] = [];
}

export class PartitionWorker {
  private readonly actors = new Map<string, HostedActor>();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private doorbell: RedisLink | null = null;
  private nextTimerDue = 0;
  private retryAt = new Map<string, number>();
  private outboxDirty = true;
  /** The newest mailbox entry id this owner has read; the doorbell waits for anything after it. */
  private lastSeen: string | null = null;
  private passivationDue = false;
  lost = false;
  processed = 0;
  /** Messages this partition's actors sent, by target service (for the panel's message rates). */
  readonly sentTo = new Map<string, number>();

  constructor(
    private readonly ctx: WorkerContext,
    readonly partition: number,
    readonly keys: PartitionKeys,
    readonly leaseValue: string,
    private readonly onLost: (worker: PartitionWorker) => void,
  ) {}

  get cachedActors(): number {
    return this.actors.size;
  }

  start(): void {
    this.loop = this.run().catch((error) => this.ctx.onError(error, `partition ${this.partition} loop`));
  }

  /** Stops after the batch in flight; the caller releases the lease afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    const bell = this.doorbell;
    this.doorbell = null;
    bell?.abort();
    await this.loop;
    this.dropActors();
    this.ctx.effects.abort((key) => this.ownsEffect(key));
  }

  /**
   * The partition an address of this service belongs to. An entry written into another partition's mailbox must not
   * be applied here: the actor would get a second record under this partition's keys, apart from its real one.
   */
  private ownerOf(address: string): number {
    const partitions = this.ctx.router.cachedPartitions(this.ctx.service);
    return partitions === undefined ? this.partition : partitionOf(address, partitions);
  }

  private ownsEffect(key: string): boolean {
    // key = fx:<address>|<invoke id>|<token>
    const body = key.slice(3);
    const address = body.slice(0, body.lastIndexOf('|', body.lastIndexOf('|') - 1));
    const partitions = this.ctx.router.cachedPartitions(this.ctx.service);
    return partitions !== undefined && partitionOf(address, partitions) === this.partition;
  }

  /** Drops mailbox entries no longer needed (below the oldest pending one); run on the lease tick. */
  async trim(): Promise<number> {
    if (this.lost || this.stopping) return 0;
    return Number(await scripts.trimMailbox.run(this.ctx.link, [this.keys.mbox], [this.ctx.group]));
  }

  /** Asks the loop to evict actors idle for longer than their type allows, between two batches. */
  requestPassivation(): void {
    this.passivationDue = true;
  }

  /** Evicts idle actors (passivation); their state stays in Redis. Runs only between batches. */
  private passivate(now: number): number {
    this.passivationDue = false;
    let n = 0;
    for (const [address, actor] of this.actors) {
      if (actor.lastUsed < now - actor.def.options.passivateAfterMs) {
        actor.stop();
        this.actors.delete(address);
        n++;
      }
    }
    return n;
  }

  private dropActors(): void {
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
  }

  private async run(): Promise<void> {
    let idleRounds = 0;
    let tookOver = false;
    while (!this.stopping) {
      try {
        // Retried like every other step: a takeover that Redis fails under must not leave a leased partition unread.
        if (!tookOver) {
          await this.takeOver();
          tookOver = true;
        }
        const now = this.ctx.clock.now();
        if (this.ctx.chaos.paused(this.ctx.service)) {
          // A pause rule (chaos): stop reading until it expires; the lease keeps being renewed meanwhile.
          await Bun.sleep(100);
          continue;
        }
        if (this.passivationDue) this.passivate(now);
        if (this.nextTimerDue !== -1 && now >= this.nextTimerDue) await this.fireTimers(now);
        if (this.outboxDirty) await this.sweepOutbox();
        const progressed = await this.processBatch();
        idleRounds = 0;
        if (!progressed && !this.lost && !this.stopping) await this.waitForWork();
      } catch (error) {
        if (this.stopping) break;
        this.ctx.onError(error, `partition ${this.partition}`);
        this.dropActors();
        await Bun.sleep(Math.min(1_000, 50 * 2 ** Math.min(idleRounds++, 5)));
      }
    }
  }

  /**
   * What a new owner does first: make sure the mailbox has its consumer group, and re-run recorded effects; timers and
   * the outbox are swept by the loop. Safe to repeat (an effect still running here is not launched twice).
   */
  private async takeOver(): Promise<void> {
    try {
      await this.ctx.link.call(['XGROUP', 'CREATE', this.keys.mbox, this.ctx.group, '0', 'MKSTREAM']);
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    const all = (await this.ctx.link.call(['HGETALL', this.keys.effects])) as Record<string, string> | string[] | null;
    const pairs = Array.isArray(all) ? pairsOf(all) : Object.entries(all ?? {});
    for (const [, json] of pairs) {
      try {
        this.ctx.effects.launch(JSON.parse(json) as EffectRecord);
      } catch (error) {
        this.ctx.onError(error, `relaunching an effect of partition ${this.partition}`);
      }
    }
    this.nextTimerDue = 0;
  }

  private async fireTimers(now: number): Promise<void> {
    const res = (await scripts.fireTimers.run(
      this.ctx.link,
      [this.keys.lease, this.keys.timers, this.keys.timerData, this.keys.mbox],
      [this.leaseValue, Math.floor(now), 200],
    )) as [number, string];
    if (res[0] === ScriptCode.NotLeaseHolder) return this.markLost();
    this.nextTimerDue = res[1] === '' ? -1 : Number(res[1]);
    if (res[0] === 200) this.nextTimerDue = now;
  }

  private async sweepOutbox(): Promise<void> {
    const entries = (await this.ctx.link.call(['XRANGE', this.keys.outbox, '-', '+', 'COUNT', 500])) as [string, string[]][];
    for (const [id, fields] of entries) {
      const msgs = JSON.parse(fields[1] ?? '[]') as OutMsg[];
      await Promise.all(msgs.map((m) => this.ctx.link.call(['XADD', m.mbox, '*', ...m.fields])));
      await this.ctx.link.call(['XDEL', this.keys.outbox, id]);
    }
    this.outboxDirty = entries.length === 500;
  }

  /** How long a blocking read may wait: until the next timer or retry falls due, at most `idleBlockMs`. */
  private blockMs(now: number): number {
    let until = now + this.ctx.settings.idleBlockMs;
    if (this.nextTimerDue !== -1) until = Math.min(until, this.nextTimerDue);
    for (const at of this.retryAt.values()) until = Math.min(until, at);
    return Math.max(1, Math.ceil(until - now));
  }

  /**
   * The next entries, read by the fenced `read-batch` script only: pending entries first (retries, a previous
   * owner's leftovers, whatever a stale owner read after losing its lease), claimed in order, then new ones; ids
   * processed before are acked and returned as duplicates. A plain blocking XREADGROUP would be one round trip
   * cheaper, but a paused owner waking up could pull entries into its own pending list while the new owner went on
   * with later ones, breaking an actor's order; only the lease holder may move entries.
   */
  private async read(): Promise<{ raw: RawEntry[]; dups: [string, string[]][] } | null> {
    const res = (await scripts.readBatch.run(
      this.ctx.link,
      [this.keys.lease, this.keys.mbox, this.keys.seen],
      [this.leaseValue, this.ctx.group, this.ctx.nodeId, this.ctx.settings.batchSize],
    )) as [number, string, string];
    if (res[0] === ScriptCode.NotLeaseHolder) {
      this.markLost();
      return null;
    }
    const raw = jsonList<RawEntry>(res[1]);
    const dups = jsonList<[string, string[]]>(res[2]);
    for (const [id] of raw) this.lastSeen = maxId(id, this.lastSeen);
    for (const [id] of dups) this.lastSeen = maxId(id, this.lastSeen);
    return { raw, dups };
  }

  /**
   * Waits for work without taking any: a plain XREAD (no group, so it moves nothing) after the newest entry this
   * owner has seen, on the partition's own connection; it also wakes when the next timer or retry falls due.
   */
  private async waitForWork(): Promise<void> {
    if (!this.doorbell) this.doorbell = await this.ctx.openDoorbell();
    if (this.lastSeen === null) this.lastSeen = await this.lastDelivered();
    try {
      await this.doorbell.call(['XREAD', 'COUNT', 1, 'BLOCK', this.blockMs(this.ctx.clock.now()), 'STREAMS', this.keys.mbox, this.lastSeen]);
    } catch (error) {
      if (!this.stopping) throw error;
    }
  }

  /** The group's last delivered id (once, when this owner has read nothing yet). */
  private async lastDelivered(): Promise<string> {
    const groups = (await this.ctx.link.call(['XINFO', 'GROUPS', this.keys.mbox])) as unknown[];
    for (const g of groups) {
      const rec = Array.isArray(g) ? fieldsToMap(g as string[]) : (g as Record<string, unknown>);
      if (rec.name === this.ctx.group) return String(rec['last-delivered-id'] ?? '0-0');
    }
    return '0-0';
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.dropActors();
    this.onLost(this);
  }

  /** One read → process → commit round. Returns whether anything was acked (else the loop waits for work). */
  private async processBatch(): Promise<boolean> {
    const got = await this.read();
    if (!got || this.lost || this.stopping) return false;
    const { raw, dups } = got;
    if (dups.length) await this.answerDuplicates(dups);
    if (raw.length === 0) return dups.length > 0;

    const batch = new Batch();
    const envelopes: (Envelope | null)[] = [];
    for (const [id, fields, deliveries] of raw) {
      try {
        envelopes.push(parseEntry(id, fields, deliveries));
      } catch (error) {
        envelopes.push(null);
        this.deadLetter(batch, id, fields, deliveries, error, 'malformed entry');
      }
    }
    await this.loadActors(envelopes);
    const now = this.ctx.clock.now();
    for (const env of envelopes) if (env) this.apply(batch, env, now);
    for (const failure of batch.failures) await this.failed(batch, failure.env, failure.error);
    if (batch.acks.length === 0) return false;
    if (batch.delayMs > 0) await Bun.sleep(batch.delayMs);
    await this.commit(batch);
    for (const fields of batch.copies) await this.ctx.link.call(['XADD', this.keys.mbox, '*', ...fields]);
    return true;
  }

  private deadLetter(batch: Batch, streamId: string, fields: readonly string[], deliveries: number, error: unknown, why: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const rec: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
    const dl = [...fields, 'error', `${why}: ${message}`, 'deliveries', String(deliveries), 'partition', String(this.partition), 'entry', streamId, 'failedAt', String(Date.now())];
    batch.deadLetters.push(dl);
    batch.acks.push(streamId);
    if (rec.m) batch.triesDel.push(rec.m);
    let event = '?';
    try {
      event = JSON.parse(rec.e ?? '{}').type ?? '?';
    } catch {}
    batch.inspections.push({
      type: 'deadletter',
      at: Date.now(),
      source: this.ctx.service,
      actor: rec.a ?? '?',
      event,
      messageId: rec.m ?? streamId,
      error: `${why}: ${message}`,
      deliveries,
      partition: this.partition,
    });
    // Only a well-formed reply-to is answered: a malformed entry's `r` may be anything (`null` once crashed the commit).
    const replyTo = replyToOf(rec.r);
    if (replyTo) batch.replies.push({ to: replyTo, payload: { q: '', ok: false, error: `${why}: ${message}` } });
  }

  private async loadActors(envelopes: (Envelope | null)[]): Promise<void> {
    const missing = new Map<string, { type: string; id: string; key: string }>();
    for (const env of envelopes) {
      if (!env || this.actors.has(env.address) || missing.has(env.address)) continue;
      let parsed;
      try {
        parsed = parseAddress(env.address);
      } catch {
        continue;
      }
      if (parsed.service !== this.ctx.service || !this.ctx.defs.has(parsed.type) || this.ownerOf(env.address) !== this.partition) continue;
      missing.set(env.address, { type: parsed.type, id: parsed.id, key: this.keys.actor(parsed.type, parsed.id) });
    }
    if (missing.size === 0) return;
    const list = [...missing];
    const rows = (await Promise.all(list.map(([, m]) => this.ctx.link.call(['HMGET', m.key, 'v', 's'])))) as (string | null)[][];
    for (let i = 0; i < list.length; i++) {
      const [address, m] = list[i]!;
      const [v, s] = rows[i]!;
      const record = s ? (JSON.parse(s) as ActorRecord) : null;
      const actor = new HostedActor(this.ctx.defs.get(m.type)!, address, m.id, record, v ? Number(v) : 0);
      actor.lastUsed = this.ctx.clock.now();
      if (record) actor.indexedState = actor.state;
      this.actors.set(address, actor);
    }
  }

  private apply(batch: Batch, env: Envelope, now: number): void {
    const actor = this.actors.get(env.address);
    if (!actor) {
      const reason = describeUnroutable(env.address, this.ctx.service, this.ctx.defs, this.ownerOf(env.address), this.partition);
      this.deadLetter(batch, env.streamId, entryOf(env), env.deliveries, new Error(reason), 'undeliverable');
      return;
    }
    const blockedUntil = this.retryAt.get(env.address);
    if (batch.blocked.has(env.address) || (blockedUntil !== undefined && blockedUntil > now)) {
      batch.blocked.add(env.address);
      return; // stays pending, in order, until the actor's failed message is retried
    }
    if (batch.seenInBatch.has(env.id)) {
      batch.acks.push(env.streamId);
      if (env.replyTo) batch.replies.push({ to: env.replyTo, payload: this.answer(actor, undefined, false, true) });
      return;
    }
    actor.lastUsed = now;
    // Chaos hits messages between actors, not a node's own timers and effect outcomes.
    const hit = env.kind ? null : this.ctx.chaos.pick(MESSAGE_FAULTS, { service: this.ctx.service, messageType: env.event.type });
    if (hit) {
      switch (hit.rule.kind) {
        case 'drop': // lost on the way: acked, never applied, not remembered (a resend with its id is applied)
          batch.acks.push(env.streamId);
          return;
        case 'duplicate': // delivered again after this commit, with the same message id
          batch.copies.push(entryOf(env));
          break;
        case 'error':
          batch.blocked.add(env.address);
          batch.failures.push({ env, error: new ActorStepError(env.address, env.event.type, new InjectedFault(hit.rule)) });
          return;
        default: // latency, delay
          batch.delayMs = Math.max(batch.delayMs, hit.latencyMs);
      }
    }
    if (env.kind === 'timer' && actor.timerFor(env.id) === undefined) {
      // A firing of a timer that was cancelled or re-armed after it fell due.
      this.markDone(batch, env);
      return;
    }
    let out: StepOutput;
    try {
      out = actor.step(env.event);
    } catch (error) {
      if (!(error instanceof ActorStepError)) throw error;
      batch.blocked.add(env.address);
      batch.failures.push({ env, error });
      return;
    }
    this.retryAt.delete(env.address);
    if (env.kind === 'timer') {
      actor.dropTimer(env.id);
      batch.inspections.push({ type: 'timer.fired', at: Date.now(), source: this.ctx.service, actor: env.address, timerId: env.event.type, dueAt: env.sentAt });
    }
    this.markDone(batch, env);
    batch.dirty.add(actor);
    batch.received.push(env);
    this.collect(batch, actor, env, out, now);
  }

  private markDone(batch: Batch, env: Envelope): void {
    batch.acks.push(env.streamId);
    batch.seen.push(env.id);
    batch.seenInBatch.add(env.id);
    if (env.deliveries > 1) batch.triesDel.push(env.id);
  }

  private async failed(batch: Batch, env: Envelope, error: ActorStepError): Promise<void> {
    const tries = Number(await this.ctx.link.call(['HINCRBY', this.keys.tries, env.id, 1]));
    if (tries >= this.ctx.settings.maxDeliveries) {
      this.retryAt.delete(env.address);
      this.deadLetter(batch, env.streamId, entryOf(env), tries, error.cause ?? error, `failed ${tries} times`);
      return;
    }
    this.retryAt.set(env.address, this.ctx.clock.now() + this.ctx.settings.retryBaseMs * 2 ** (tries - 1));
    batch.blocked.add(env.address);
    this.ctx.onError(error, `${env.address} (attempt ${tries} of ${this.ctx.settings.maxDeliveries})`);
  }

  private collect(batch: Batch, actor: HostedActor, env: Envelope, out: StepOutput, now: number): void {
    const source = this.ctx.service;
    for (const note of out.notes) batch.inspections.push({ ...note, at: Date.now(), source } as InspectionEvent);
    for (const tell of out.tells) {
      const id = tell.id ?? newMessageId();
      const fields = ['m', id, 'a', tell.to, 'e', JSON.stringify(tell.event), 't', String(preciseNow()), 'f', env.address];
      batch.outbox.push({ mbox: '', fields });
    }
    for (const e of out.published) {
      batch.events.push(JSON.stringify({ id: newMessageId(), ...e, type: e.type, aggregate: actor.address, at: Date.now(), cause: env.id }));
    }
    for (const timerId of out.timersCancelled) {
      batch.timers.set(`${actor.address}|${timerId}`, null);
      batch.inspections.push({ type: 'timer.cancelled', at: Date.now(), source, actor: actor.address, timerId, dueAt: 0 });
    }
    for (const arm of out.timersArmed) {
      const due = Math.floor(now + arm.delayMs);
      batch.timers.set(`${actor.address}|${arm.timerId}`, [due, JSON.stringify({ m: arm.token, a: actor.address, e: JSON.stringify(arm.event) })]);
      if (this.nextTimerDue === -1 || due < this.nextTimerDue) this.nextTimerDue = due;
      batch.inspections.push({ type: 'timer.armed', at: Date.now(), source, actor: actor.address, timerId: arm.timerId, dueAt: due });
    }
    for (const fx of out.effectsStarted) {
      batch.effectsSet.push({ key: fx.key, address: actor.address, invokeId: fx.invokeId, src: fx.src, input: fx.input });
    }
    batch.effectsDel.push(...out.effectsStopped);
    if (env.replyTo) batch.replies.push({ to: env.replyTo, payload: this.answer(actor, out.replies[0], out.handled, false) });
    if (out.from !== out.to || this.ctx.wantsMessageEvents()) {
      batch.inspections.push({
        type: 'actor.transition',
        at: Date.now(),
        source,
        actor: actor.address,
        event: env.event.type,
        from: out.from,
        to: out.to,
        handled: out.handled,
        messageId: env.id,
      });
    }
  }

  private answer(actor: HostedActor, reply: unknown, handled: boolean, duplicate: boolean): ReplyPayload {
    const snap = actor.snapshot;
    return { q: '', ok: true, state: actor.state, context: snap.context, reply, handled, duplicate };
  }

  private async answerDuplicates(dups: [string, string[]][]): Promise<void> {
    const envs: Envelope[] = [];
    for (const [id, fields] of dups) {
      try {
        const env = parseEntry(id, fields, 1);
        if (env.replyTo) envs.push(env);
      } catch {}
    }
    if (!envs.length) return;
    await this.loadActors(envs);
    for (const env of envs) {
      const actor = this.actors.get(env.address);
      const payload: ReplyPayload = actor ? this.answer(actor, undefined, false, true) : { q: '', ok: false, error: 'duplicate of a message already processed' };
      this.sendReply(env.replyTo!, payload, null);
    }
  }

  private sendReply(to: ReplyTo, payload: ReplyPayload, remote: [string, string][] | null): void {
    payload.q = to.q;
    if (this.ctx.resolveLocal(to, payload)) return;
    const channel = this.ctx.replyChannel(to.n);
    if (remote) remote.push([channel, JSON.stringify(payload)]);
    else void this.ctx.link.call(['PUBLISH', channel, JSON.stringify(payload)]).catch(() => {});
  }

  private async commit(batch: Batch): Promise<void> {
    // Outgoing messages need their target mailboxes (a cross-service target may need one lookup).
    for (const msg of batch.outbox) msg.mbox = (await this.ctx.router.locate(msg.fields[3]!)).mbox;
    const actors = [...batch.dirty];
    const keys = [
      this.keys.lease,
      this.keys.mbox,
      this.keys.seen,
      this.keys.outbox,
      this.keys.events,
      this.keys.timers,
      this.keys.timerData,
      this.keys.effects,
      this.keys.tries,
      this.keys.index,
      this.keys.dlq,
    ];
    const now = Date.now();
    const x: [string, string, string, string, string | false][] = [];
    for (const actor of actors) {
      const { type, id } = parseAddress(actor.address);
      keys.push(this.keys.actor(type, id));
      const state = actor.state;
      // The index only changes with the state: skip the write when it stayed.
      x.push([String(actor.version), String(actor.version + 1), JSON.stringify(actor.record()), `${type}/${id}`, state !== actor.indexedState ? state : false]);
    }
    const ts: [string, number, string][] = [];
    const td: string[] = [];
    for (const [member, v] of batch.timers) {
      if (v) ts.push([member, v[0], v[1]]);
      else td.push(member);
    }
    const remote: [string, string][] = [];
    const local: { to: ReplyTo; payload: ReplyPayload }[] = [];
    for (const r of batch.replies) {
      r.payload.q = r.to.q;
      if (r.to.n === this.ctx.nodeId) local.push(r);
      else remote.push([this.ctx.replyChannel(r.to.n), JSON.stringify(r.payload)]);
    }
    const payload = JSON.stringify({
      a: batch.acks,
      s: batch.seen,
      x,
      o: batch.outbox.length ? JSON.stringify(batch.outbox) : undefined,
      e: batch.events,
      ts,
      td,
      fs: batch.effectsSet.map((fx) => [fx.key, JSON.stringify(fx)]),
      fd: batch.effectsDel,
      tr: batch.triesDel,
      dl: batch.deadLetters,
      r: remote,
    });
    const args: (string | number)[] = [this.leaseValue, this.ctx.group, now, this.ctx.settings.seenHorizonMs, this.ctx.settings.eventsMaxLen, payload];

    let res: [number, string?, string?];
    try {
      res = (await scripts.commitTurn.run(this.ctx.link, keys, args)) as [number, string?, string?];
    } catch (error) {
      this.dropActors(); // the commit may or may not have happened: rebuild from Redis
      throw error;
    }
    if (res[0] === ScriptCode.NotLeaseHolder) {
      this.markLost();
      return;
    }
    if (res[0] === ScriptCode.VersionConflict) {
      this.ctx.onError(new Error(`version conflict on ${res[1]} (stored ${res[2]}); rebuilding partition ${this.partition}`), 'commit');
      this.dropActors();
      return;
    }
    if (res[0] === ScriptCode.Duplicate) {
      // Cannot happen while reads are fenced (they drop processed ids); if it does, rebuild and read again.
      this.dropActors();
      return;
    }
    for (const actor of actors) {
      actor.version++;
      actor.indexedState = actor.state;
    }
    this.processed += batch.seen.length;

    if (batch.outbox.length) {
      for (const m of batch.outbox) {
        const target = m.fields[3]!.slice(0, m.fields[3]!.indexOf('/'));
        this.sentTo.set(target, (this.sentTo.get(target) ?? 0) + 1);
      }
      this.relay(batch.outbox, res[1]!);
    }
    for (const fx of batch.effectsSet) this.ctx.effects.launch(fx);
    if (batch.effectsDel.length) this.ctx.effects.abort((key) => batch.effectsDel.includes(key));
    for (const r of local) this.ctx.resolveLocal(r.to, r.payload);
    for (const ev of batch.inspections) this.ctx.inspect(ev);
    if (this.ctx.wantsMessageEvents()) {
      const at = preciseNow();
      for (const env of batch.received) {
        this.ctx.inspect({ type: 'message.received', at: Date.now(), source: this.ctx.service, actor: env.address, event: env.event.type, messageId: env.id, latencyMs: at - env.sentAt });
      }
    }
  }

  /** Delivers a committed batch's outgoing messages; the outbox entry goes once they are all in their mailboxes. */
  private relay(msgs: OutMsg[], outboxId: string): void {
    Promise.all(msgs.map((m) => this.ctx.link.call(['XADD', m.mbox, '*', ...m.fields])))
      .then(() => this.ctx.link.call(['XDEL', this.keys.outbox, outboxId]))
      .catch((error) => {
        this.outboxDirty = true;
        this.ctx.onError(error, `relaying from partition ${this.partition}`);
      });
  }
}

function pairsOf(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function entryOf(env: Envelope): string[] {
  const f = ['m', env.id, 'a', env.address, 'e', JSON.stringify(env.event), 't', String(env.sentAt)];
  if (env.replyTo) f.push('r', JSON.stringify(env.replyTo));
  if (env.kind) f.push('k', env.kind);
  if (env.from) f.push('f', env.from);
  return f;
}

/** A list the read script JSON-encoded (Lua's cjson writes an empty list as `{}`). */
export function jsonList<T>(json: string): T[] {
  const value = JSON.parse(json) as unknown;
  return Array.isArray(value) ? (value as T[]) : [];
}

function maxId(a: string, b: string | null): string {
  if (b === null) return a;
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am > bm || (am === bm && as > bs) ? a : b;
}

function fieldsToMap(flat: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1];
  return out;
}

function describeUnroutable(address: string, service: string, defs: ReadonlyMap<string, ActorDefinition>, owner: number, partition: number): string {
  try {
    const p = parseAddress(address);
    if (p.service !== service) return `address ${address} belongs to service "${p.service}", not "${service}"`;
    if (defs.has(p.type) && owner !== partition) return `address ${address} belongs to partition ${owner} of service "${service}", not ${partition}`;
    return `service "${service}" has no actor type "${p.type}" (it has: ${[...defs.keys()].join(', ')})`;
  } catch (error) {
    return (error as Error).message;
  }
}

