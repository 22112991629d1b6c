/**
 * A `RedisLink` that misbehaves on purpose, for testing what the runtime does when Redis calls fail: it wraps a real
 * link and, drawing from a seeded random source, fails a call before it is sent, drops the reply of a call that ran
 * (the caller cannot tell whether it happened), resets the connection (every call in flight fails, and the next
 * few), or holds the connection for a little (latency) or a long while (a stall). Held calls are sent in the order
 * they were made, as a real connection would, so only the faults differ from the real thing. `heal()` turns it all
 * off; `injected` counts what it did.
 */
import { seededRandom, systemClock, type Clock, type Random, type TimerHandle } from '../clock.ts';
import type { RedisArg, RedisLink } from './link.ts';
import { scripts } from './script.ts';

import { LINK_FAULT_KINDS, type LinkFaultKind } from './link-fault-kinds.ts';

export { LINK_FAULT_KINDS, type LinkFaultKind };

export type LinkFaultPlan = {
  /** Seeds the random source: the same seed draws the same faults for the same sequence of calls. */
  seed: number;
  /** Probability per matching call of each fault (0–1; default 0). Drawn in the order fail, drop-reply, reset, stall, latency. */
  probability: Partial<Record<LinkFaultKind, number>>;
  /** Only calls of these commands (e.g. `XADD`) or of these runtime scripts (e.g. `commit-turn-12`) draw faults; default every call. */
  only?: { commands?: string[]; scripts?: string[] };
  /** How long a latency fault holds the connection, ms (uniform in [min, max]). Default 5–40. */
  latencyMs?: [number, number];
  /** How long a stall holds the connection, ms. Default 200–1,500. */
  stallMs?: [number, number];
  /** How many calls after a reset fail before they are sent. Default 0–3. */
  afterReset?: [number, number];
  /** Start healed: no fault until `resume()`. */
  healed?: boolean;
  /**
   * The probabilities now, asked on every call instead of `probability` (null: no fault) — e.g. from chaos rules,
   * so faults come and go while the link lives.
   */
  probabilityOf?: () => Partial<Record<LinkFaultKind, number>> | null;
  /** Told of every fault injected. */
  onInjected?: (kind: LinkFaultKind, command: string) => void;
  /** Times the holds of latency and stall faults (default: the wall clock; the held calls are real ones). */
  clock?: Clock;
};

/** A failure the fault link made up; `kind` says which, and whether the command may have run (`drop-reply`, `reset`). */
export class LinkFaultError extends Error {
  readonly code = 'LINK_FAULT';
  constructor(
    readonly kind: LinkFaultKind,
    readonly command: string,
    readonly mayHaveRun: boolean,
  ) {
    super(`injected link fault (${kind}) on ${command}: ${mayHaveRun ? 'the connection failed, the command may have run' : 'the connection failed, the command was not sent'}`);
  }
}

type Call = { args: RedisArg[]; routeKey?: string; resolve: (v: unknown) => void; reject: (e: unknown) => void; sent: boolean; settled: boolean; dropReply: boolean };

const SCRIPT_NAMES = new Map(Object.values(scripts).flatMap((s) => [[s.sha, s.name] as const, [s.source, s.name] as const]));

/** The runtime script a call runs (`commit-turn-12`), or undefined. */
function scriptOf(args: readonly RedisArg[]): string | undefined {
  const cmd = String(args[0]).toUpperCase();
  return cmd === 'EVALSHA' || cmd === 'EVAL' ? SCRIPT_NAMES.get(String(args[1])) : undefined;
}

export class FaultLink implements RedisLink {
  readonly injected: Record<LinkFaultKind, number> = { fail: 0, 'drop-reply': 0, reset: 0, latency: 0, stall: 0 };
  /** Calls made through this link, faulted or not. */
  calls = 0;
  private readonly random: Random;
  private active: boolean;
  private readonly queue: Call[] = [];
  private readonly inFlight = new Set<Call>();
  private holdUntil = 0;
  private flushTimer: TimerHandle | null = null;
  private readonly clock: Clock;
  private failNext = 0;
  private readonly commands: Set<string> | null;
  private readonly scriptNames: Set<string> | null;

  constructor(
    private readonly inner: RedisLink,
    readonly plan: LinkFaultPlan,
  ) {
    this.random = seededRandom(plan.seed);
    this.clock = plan.clock ?? systemClock;
    this.active = !plan.healed;
    this.commands = plan.only?.commands ? new Set(plan.only.commands.map((c) => c.toUpperCase())) : null;
    this.scriptNames = plan.only?.scripts ? new Set(plan.only.scripts) : null;
  }

  /** Whether faults are being injected now. */
  get faulty(): boolean {
    return this.active;
  }

  /** Stops injecting: held calls go out now, nothing more fails. */
  heal(): void {
    this.active = false;
    this.failNext = 0;
    this.holdUntil = 0;
    this.flush();
  }

  /** Injects faults again. */
  resume(): void {
    this.active = true;
  }

  /** Resets the connection now: every call in flight or held fails, and the next few calls too. */
  reset(): void {
    this.injected.reset++;
    const [lo, hi] = this.plan.afterReset ?? [0, 3];
    this.failNext = lo + Math.floor(this.random() * (hi - lo + 1));
    for (const call of [...this.queue, ...this.inFlight]) this.settle(call, new LinkFaultError('reset', String(call.args[0]), call.sent));
    this.queue.length = 0;
    this.inFlight.clear();
  }

  /** Holds the connection for `ms`: calls made meanwhile wait, then go out in order. */
  stall(ms: number): void {
    this.hold(ms);
  }

  call(args: RedisArg[], routeKey?: string): Promise<unknown> {
    this.calls++;
    return new Promise((resolve, reject) => {
      const call: Call = { args, routeKey, resolve, reject, sent: false, settled: false, dropReply: false };
      if (this.active && this.inject(call)) return;
      if (this.queue.length > 0 || this.clock.now() < this.holdUntil) {
        this.queue.push(call);
        this.armFlush();
      } else this.send(call);
    });
  }

  async close(): Promise<void> {
    this.heal();
    await this.inner.close();
  }

  abort(): void {
    for (const call of [...this.queue, ...this.inFlight]) this.settle(call, new Error('redis link is closed'));
    this.queue.length = 0;
    this.inFlight.clear();
    this.inner.abort();
  }

  /** Draws this call's fault. Returns true when the call is already settled (failed before it was sent). */
  private inject(call: Call): boolean {
    const command = String(call.args[0]).toUpperCase();
    const p = this.plan.probabilityOf ? this.plan.probabilityOf() : this.plan.probability;
    if (!p) {
      // No rule applies any more: the connection is healthy again, calls still due to fail after a reset included.
      this.failNext = 0;
      return false;
    }
    if (this.failNext > 0) {
      this.failNext--;
      this.count('fail', command);
      call.reject(new LinkFaultError('reset', command, false));
      return true;
    }
    if (!this.matches(command, call.args)) return false;
    if (this.random() < (p.fail ?? 0)) {
      this.count('fail', command);
      call.reject(new LinkFaultError('fail', command, false));
      return true;
    }
    if (this.random() < (p['drop-reply'] ?? 0)) {
      this.count('drop-reply', command);
      call.dropReply = true;
    }
    if (this.random() < (p.reset ?? 0)) {
      // The connection goes down just as this call is written: it (unless held behind others) and everything in
      // flight may have run; held calls never went out.
      if (this.queue.length === 0 && this.clock.now() >= this.holdUntil) this.send(call);
      else this.queue.push(call);
      this.reset();
      this.plan.onInjected?.('reset', command);
      return true;
    }
    if (this.random() < (p.stall ?? 0)) {
      this.count('stall', command);
      this.hold(this.between(this.plan.stallMs ?? [200, 1_500]));
    } else if (this.random() < (p.latency ?? 0)) {
      this.count('latency', command);
      this.hold(this.between(this.plan.latencyMs ?? [5, 40]));
    }
    return false;
  }

  private count(kind: LinkFaultKind, command: string): void {
    this.injected[kind]++;
    this.plan.onInjected?.(kind, command);
  }

  private matches(command: string, args: readonly RedisArg[]): boolean {
    if (!this.commands && !this.scriptNames) return true;
    if (this.commands?.has(command)) return true;
    const script = this.scriptNames ? scriptOf(args) : undefined;
    return script !== undefined && this.scriptNames!.has(script);
  }

  private between([lo, hi]: [number, number]): number {
    return Math.round(lo + this.random() * (hi - lo));
  }

  private hold(ms: number): void {
    this.holdUntil = Math.max(this.holdUntil, this.clock.now() + ms);
    this.armFlush();
  }

  private armFlush(): void {
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = this.clock.setTimeout(() => this.flush(), Math.max(0, this.holdUntil - this.clock.now()));
  }

  /** Sends the held calls in order once the hold is over (or now, when forced). */
  private flush(force = false): void {
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!force && this.clock.now() < this.holdUntil) return this.armFlush();
    const calls = this.queue.splice(0);
    for (const call of calls) this.send(call);
  }

  private send(call: Call): void {
    call.sent = true;
    this.inFlight.add(call);
    let reply: Promise<unknown>;
    try {
      reply = this.inner.call(call.args, call.routeKey);
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (value) => this.settle(call, call.dropReply ? new LinkFaultError('drop-reply', String(call.args[0]), true) : null, value),
      (error) => this.settle(call, error),
    );
  }

  private settle(call: Call, error: unknown, value?: unknown): void {
    this.inFlight.delete(call);
    if (call.settled) return;
    call.settled = true;
    if (error) call.reject(error);
    else call.resolve(value);
  }
}

/**
 * Wraps a link in a fault-injecting one.
 *
 * @example
 * const link = withFaults(await openLink(url), { seed: 7, probability: { 'drop-reply': 0.05 }, only: { scripts: ['commit-turn-12'] } });
 * // … run the node on it …
 * link.heal();
 * console.log(link.injected); // { fail: 0, 'drop-reply': 12, reset: 0, latency: 0, stall: 0 }
 */
export function withFaults(link: RedisLink, plan: LinkFaultPlan): FaultLink {
  return new FaultLink(link, plan);
}
