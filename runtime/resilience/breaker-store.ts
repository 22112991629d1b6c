/**
 * Where shared circuit breakers keep their state: one Redis connection for the Lua scripts that record calls and move
 * breakers, one subscriber for the notices those scripts publish, and a short poll that heartbeats every breaker and
 * re-reads its state (so a notice lost while the subscriber reconnected costs at most one poll). The store never
 * makes a call wait on Redis: it tells its breakers when Redis is unreachable, and they judge calls on their own
 * until it answers again. One store per process serves all of its shared breakers.
 */

import { systemClock } from '../clock.ts';
import { RedisClient } from 'bun';
import '../redis/tracing-channel.ts';
import { createClient } from 'redis';
import { hostname } from 'node:os';
import { breakerKeys, globalKeys } from '../keys.ts';
import type { BreakerState } from '../inspection.ts';
import type { RedisArg, RedisLink } from '../redis/link.ts';
import type { LuaScript } from '../redis/script.ts';

/** Why a shared breaker is in its state, as stored (each instance words it with `reasons.ts`). */
export type SharedCause =
  | { kind: 'created' }
  | { kind: 'trip'; calls: number; failures: number; slowCalls: number }
  | { kind: 'wait'; waitMs: number }
  | { kind: 'reopen'; error?: string; durationMs?: number }
  | { kind: 'closed'; probes: number }
  | { kind: 'evaluated'; probes: number; failed: number; slow: number }
  | { kind: 'operator'; action: 'forceOpen' | 'disable' | 'reset'; note?: string };

/** A shared breaker's record in Redis. */
export type SharedView = {
  version: number;
  state: BreakerState;
  openedAt: number;
  waitMs: number;
  trips: number;
  cause: SharedCause;
  probes: { admitted: number; succeeded: number; failed: number; slow: number };
};

/** One process's view of a shared breaker, as its heartbeat stores it. */
export type BreakerInstance = { instance: string; source: string; pid: number; state: BreakerState; mode: 'shared' | 'local'; at: number };

/** What the store asks of each breaker that joins it. */
export interface StoreMember {
  readonly name: string;
  /** A notice or the poll says the record may have changed. */
  refresh(): void;
  /** Redis answered again (`true`) or stopped answering (`false`). */
  reachability(up: boolean, reason: string): void;
  /** This process's view, for the heartbeat. */
  instanceView(): Omit<BreakerInstance, 'instance' | 'pid' | 'at'>;
}

export type BreakerStoreOptions = {
  url: string;
  /** The system's key prefix. */
  prefix: string;
  /** Names this process among a breaker's instances. Default: `<host>:<pid>`. */
  instance?: string;
  /** How often each breaker heartbeats and re-reads its record. Default 500 ms. */
  pollMs?: number;
  /** How long an awaited command (a probe permit) may take before the breaker stops waiting on Redis. Default 500 ms. */
  commandTimeoutMs?: number;
};

/**
 * The Redis side of shared breakers.
 *
 * @example
 * const store = createBreakerStore({ url: 'redis://127.0.0.1:6379', prefix: 'mailroom' });
 * const breaker = createCircuitBreaker({ name: 'payment-provider', shared: true, store });
 */
export class BreakerStore {
  readonly prefix: string;
  readonly instance: string;
  readonly notices: string;
  private readonly url: string;
  private readonly members = new Set<StoreMember>();
  private readonly byName = new Map<string, Set<StoreMember>>();
  private readonly commandTimeoutMs: number;
  private client: RedisClient | undefined;
  private subscriber: { quit(): Promise<unknown>; destroy(): void } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private up = false;
  private closed = false;
  private polling = false;

  constructor(options: BreakerStoreOptions) {
    this.url = options.url;
    this.prefix = options.prefix;
    this.instance = options.instance ?? `${hostname()}:${process.pid}`;
    this.notices = globalKeys(options.prefix).breakerNotices;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.timer = setInterval(() => void this.poll(), options.pollMs ?? 500);
    this.timer.unref?.();
    void this.connect();
  }

  /** Whether Redis answered the last command. */
  get reachable(): boolean {
    return this.up;
  }

  /** The link the scripts run on: fails at once while Redis is unreachable (no offline queue, so no call waits). */
  get link(): RedisLink {
    return {
      call: (args: RedisArg[]) => {
        if (!this.up || this.client === undefined) return Promise.reject(new Error('redis unreachable'));
        return this.client.send(String(args[0]), args.slice(1).map(String));
      },
      close: async () => this.close(),
      abort: () => void this.close(),
    };
  }

  join(member: StoreMember): void {
    this.members.add(member);
    let named = this.byName.get(member.name);
    if (named === undefined) this.byName.set(member.name, (named = new Set()));
    named.add(member);
    if (this.up) {
      member.reachability(true, 'joined the shared state in Redis');
      void this.client?.send('SADD', [globalKeys(this.prefix).sharedBreakers, member.name]).catch(() => {});
    }
  }

  leave(member: StoreMember): void {
    this.members.delete(member);
    this.byName.get(member.name)?.delete(member);
    if (this.up) void this.client?.send('HDEL', [breakerKeys(this.prefix, member.name).instances, this.instance]).catch(() => {});
  }

  /** Runs a breaker script; a failure marks Redis unreachable (the caller falls back to local state). */
  async run(script: LuaScript, name: string, args: readonly RedisArg[]): Promise<unknown[]> {
    const keys = breakerKeys(this.prefix, name);
    try {
      return (await script.run(this.link, [keys.state, keys.window, keys.ring].slice(0, keyCount(script)), args)) as unknown[];
    } catch (error) {
      this.lost(error);
      throw error;
    }
  }

  /** Like `run`, but gives up after `commandTimeoutMs`: for the few commands a call waits on. */
  runBounded(script: LuaScript, name: string, args: readonly RedisArg[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new Error(`redis did not answer within ${this.commandTimeoutMs} ms`);
        this.lost(error);
        reject(error);
      }, this.commandTimeoutMs);
      this.run(script, name, args).then(
        (value) => (clearTimeout(timer), resolve(value)),
        (error: unknown) => (clearTimeout(timer), reject(error)),
      );
    });
  }

  /**
   * A shared breaker's record (a fresh one reads as closed, version 0).
   *
   * @example
   * (await store.read('payment-provider')).state; // 'open'
   */
  async read(name: string): Promise<SharedView> {
    const raw = (await this.link.call(['HGETALL', breakerKeys(this.prefix, name).state])) as Record<string, string> | string[] | null;
    return viewOf(hashOf(raw));
  }

  /**
   * The processes using a shared breaker and their views, freshest first (heartbeats older than `maxAgeMs` left out).
   *
   * @example
   * await store.instances('payment-provider'); // [{ instance: 'web-1:4242', state: 'open', mode: 'shared', … }]
   */
  async instances(name: string, maxAgeMs = 5_000): Promise<BreakerInstance[]> {
    const raw = (await this.link.call(['HGETALL', breakerKeys(this.prefix, name).instances])) as Record<string, string> | string[] | null;
    const now = systemClock.now();
    return Object.values(hashOf(raw))
      .map((json) => JSON.parse(json) as BreakerInstance)
      .filter((row) => now - row.at <= maxAgeMs)
      .sort((a, b) => b.at - a.at);
  }

  /**
   * The names of every shared breaker a process has joined under this prefix, sorted.
   *
   * @example
   * await store.names(); // ['order', 'provider']
   */
  async names(): Promise<string[]> {
    const raw = (await this.link.call(['SMEMBERS', globalKeys(this.prefix).sharedBreakers])) as string[] | null;
    return [...(raw ?? [])].map(String).sort();
  }

  /** Stops the poll and closes both connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.client?.close();
    void this.subscriber?.quit().catch(() => this.subscriber?.destroy());
  }

  private async connect(): Promise<void> {
    try {
      const client = new RedisClient(this.url, { autoReconnect: true, enableOfflineQueue: false, connectionTimeout: 1_000, maxRetries: 1_000_000 });
      client.onclose = () => this.lost(new Error('connection closed'));
      await client.connect();
      this.client = client;
      const subscriber = createClient({ url: this.url, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000) } });
      subscriber.on('error', () => {
        // Reconnects by itself; the poll covers the notices missed meanwhile.
      });
      await subscriber.connect();
      await subscriber.subscribe(this.notices, (message) => this.noticed(message));
      this.subscriber = subscriber;
      if (this.closed) return this.close();
      this.found('joined the shared state in Redis');
    } catch (error) {
      this.client?.close();
      this.client = undefined;
      this.lost(error);
    }
  }

  private noticed(message: string): void {
    const name = message.slice(0, message.lastIndexOf(' '));
    for (const member of this.byName.get(name) ?? []) member.refresh();
  }

  private async poll(): Promise<void> {
    if (this.closed || this.polling) return;
    this.polling = true;
    try {
      if (this.client === undefined) {
        // Never connected: try again from the start.
        await this.connect();
        return;
      }
      if (!this.up) {
        await this.client.send('PING', []);
        this.found('rejoined the shared state: Redis answers again');
      }
      const now = systemClock.now();
      for (const member of this.members) {
        const row: BreakerInstance = { instance: this.instance, pid: process.pid, at: now, ...member.instanceView() };
        const keys = breakerKeys(this.prefix, member.name);
        void this.client.send('HSET', [keys.instances, this.instance, JSON.stringify(row)]).catch(() => {});
        void this.client.send('PEXPIRE', [keys.instances, '60000']).catch(() => {});
        member.refresh();
      }
    } catch {
      // Still unreachable: the breakers already know.
    } finally {
      this.polling = false;
    }
  }

  private found(reason: string): void {
    if (this.up || this.closed) return;
    this.up = true;
    for (const member of this.members) {
      void this.client?.send('SADD', [globalKeys(this.prefix).sharedBreakers, member.name]).catch(() => {});
      member.reachability(true, reason);
    }
  }

  private lost(error: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    const reason = `Redis unreachable (${error instanceof Error ? error.message : String(error)}): judging calls on local state`;
    for (const member of this.members) member.reachability(false, reason);
  }
}

/**
 * Creates the store a process's shared breakers use.
 *
 * @example
 * const store = createBreakerStore({ url: env.REDIS_URL, prefix: 'mailroom' });
 */
export function createBreakerStore(options: BreakerStoreOptions): BreakerStore {
  return new BreakerStore(options);
}

function keyCount(script: LuaScript): number {
  return Number(/-(\d+)$/.exec(script.name)?.[1] ?? 0);
}

function hashOf(raw: Record<string, string> | string[] | null): Record<string, string> {
  if (raw === null) return {};
  if (!Array.isArray(raw)) return raw;
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) hash[raw[i]!] = raw[i + 1]!;
  return hash;
}

function viewOf(hash: Record<string, string>): SharedView {
  const n = (field: string): number => Number(hash[field] ?? 0);
  return {
    version: n('version'),
    state: (hash.state as BreakerState | undefined) ?? 'closed',
    openedAt: n('openedAt'),
    waitMs: n('waitMs'),
    trips: n('trips'),
    cause: hash.cause ? (JSON.parse(hash.cause) as SharedCause) : { kind: 'created' },
    probes: { admitted: n('admitted'), succeeded: n('succeeded'), failed: n('failed'), slow: n('slow') },
  };
}
