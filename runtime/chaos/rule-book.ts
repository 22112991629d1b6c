/**
 * A process's cache of the chaos rules in Redis. Every process holds a `RuleBook` that notices changes within
 * ~250 ms (it polls one version counter) and answers "does a rule hit this message / request / call?" without a
 * round trip. Writers (the control plane, tests, the chaos run) change the rules through the operations side's
 * `ChaosStore` (`runtime/ops/chaos-store.ts`).
 */
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import { systemClock, type Clock, type Random } from '../clock.ts';
import type { InspectionEvent } from '../inspection.ts';
import { globalKeys } from '../keys.ts';
import { openLink, type RedisLink } from '../redis/link.ts';
import type { LinkFaultKind } from '../redis/link-fault-kinds.ts';
import type { ChaosRule, ChaosTarget } from './chaos-rule.ts';

/** The rules as the rules hash holds them (HGETALL in RESP2 or RESP3). */
export function parseRules(raw: unknown): ChaosRule[] {
  const values = Array.isArray(raw) ? raw.filter((_, i) => i % 2 === 1) : Object.values((raw ?? {}) as Record<string, string>);
  return (values as string[]).map((v) => JSON.parse(v) as ChaosRule);
}

/**
 * A rule book on its own connection, reporting what it injects as `chaos.injected` inspection events (at most
 * ~20 a second, so a 100% rule cannot flood the stream).
 */
export function openRuleBook(options: { redis?: string; keyPrefix?: string; source: string; inspect?: (event: InspectionEvent) => void; clock?: Clock }): RuleBook {
  const clock = options.clock ?? systemClock;
  const link = openLink(options.redis ?? redisUrlOf(), 'node-redis');
  let windowStart = 0;
  let inWindow = 0;
  return new RuleBook(link, options.keyPrefix ?? keyPrefixOf(), Math.random, (hit, where) => {
    if (!options.inspect) return;
    const now = clock.now();
    if (now - windowStart > 1_000) {
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > 20) return;
    options.inspect({ type: 'chaos.injected', at: now, source: options.source, rule: hit.rule.id, kind: hit.rule.kind, target: where, detail: hit.latencyMs ? `${hit.latencyMs} ms` : undefined });
  }, clock)
    .owning()
    .start();
}

export type ChaosHit = { rule: ChaosRule; latencyMs: number };

/** A process's cached view of the rules. */
export class RuleBook {
  private rules: ChaosRule[] = [];
  private version = '';
  private timer: ReturnType<typeof setInterval> | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly link: RedisLink | Promise<RedisLink>,
    private readonly prefix: string = keyPrefixOf(),
    private readonly random: Random = Math.random,
    private readonly onHit?: (hit: ChaosHit, where: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts following the rules (polls the version every `everyMs`). */
  start(everyMs = 250): this {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), everyMs);
    (this.timer as { unref?: () => void }).unref?.();
    return this;
  }

  /** Stops following the rules (and closes the connection if the book opened it). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.ownsLink) void Promise.resolve(this.link).then((l) => l.close()).catch(() => {});
  }

  private ownsLink = false;

  /** Marks the connection as the book's own, closed by `stop()`. */
  owning(): this {
    this.ownsLink = true;
    return this;
  }

  get active(): readonly ChaosRule[] {
    return this.rules;
  }

  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const k = globalKeys(this.prefix);
        const link = await this.link;
        const version = String((await link.call(['GET', k.chaosVersion])) ?? '');
        if (version !== this.version) {
          this.rules = parseRules(await link.call(['HGETALL', k.chaosRules]));
          this.version = version;
        }
      } catch {
        // Redis unreachable: keep the rules we know; they expire by time anyway.
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * The first rule of one of `kinds` that matches `at` and fires this time (rolled against its probability).
   *
   * @example
   * const hit = book.pick(['drop', 'duplicate'], { service: 'inventory', messageType: 'reserve' });
   */
  pick(kinds: readonly ChaosRule['kind'][], at: ChaosTarget): ChaosHit | null {
    if (this.rules.length === 0) return null;
    const now = this.clock.now();
    for (const rule of this.rules) {
      if (rule.expiresAt <= now || !kinds.includes(rule.kind) || !matches(rule.target, at)) continue;
      if (this.random() >= rule.probability) continue;
      const l = rule.latencyMs;
      const hit = { rule, latencyMs: l ? l.min + Math.floor(this.random() * (l.max - l.min + 1)) : 0 };
      this.onHit?.(hit, describe(at));
      return hit;
    }
    return null;
  }

  /**
   * Whether a rule of these kinds could hit `at` now, without rolling its dice: a message that one could hit is sent
   * the way the rule is applied to (through its mailbox), so that it is rolled once, as any other.
   *
   * @example
   * book.targets(['drop', 'duplicate'], { service: 'inventory', messageType: 'reserve' }); // false with no rule
   */
  targets(kinds: readonly ChaosRule['kind'][], at: ChaosTarget): boolean {
    if (this.rules.length === 0) return false;
    const now = this.clock.now();
    return this.rules.some((rule) => rule.expiresAt > now && kinds.includes(rule.kind) && matches(rule.target, at));
  }

  /**
   * The `faults` hook of the resilience kit's HTTP client: calls from `source` to a dependency hit by an error or
   * latency rule fail or slow down before they leave.
   *
   * @example
   * createHttpClient({ source: 'payment', dependencies, faults: book.forHttpClient('payment') });
   */
  forHttpClient(source: string) {
    return (dependency: string) => {
      const hit = this.pick(['error', 'latency'], { service: source, dependency });
      if (!hit) return null;
      return { kind: hit.rule.kind === 'error' ? ('error' as const) : ('latency' as const), latencyMs: hit.latencyMs, reason: `injected fault (chaos rule ${hit.rule.id})` };
    };
  }

  /**
   * The chance of each Redis link fault for a service's connections now (the strongest active `redis` rule of each
   * fault), or null when none applies — the fault link's `probabilityOf`.
   */
  redisFaults(service: string): Partial<Record<LinkFaultKind, number>> | null {
    if (this.rules.length === 0) return null;
    const now = this.clock.now();
    let out: Partial<Record<LinkFaultKind, number>> | null = null;
    for (const r of this.rules) {
      if (r.kind !== 'redis' || r.expiresAt <= now || r.target.service !== service || !r.fault) continue;
      out ??= {};
      out[r.fault] = Math.max(out[r.fault] ?? 0, r.probability);
    }
    return out;
  }

  /** Reports a Redis link fault a `redis` rule of the service caused (as a `chaos.injected` event, like other hits). */
  redisFaultInjected(service: string, fault: LinkFaultKind, command: string): void {
    const now = this.clock.now();
    const rule = this.rules.find((r) => r.kind === 'redis' && r.fault === fault && r.expiresAt > now && r.target.service === service);
    if (rule) this.onHit?.({ rule, latencyMs: 0 }, `${service} redis ${command}`);
  }

  /** Whether a pause rule holds the service's consumers now. */
  paused(service: string): boolean {
    const now = this.clock.now();
    return this.rules.some((r) => r.kind === 'pause' && r.expiresAt > now && r.target.service === service);
  }
}

/**
 * A place is a message (`service` + `messageType`), a request (`service` + `route`) or a call (`dependency`, with
 * the caller as `service`). A rule naming a dependency hits calls; naming a route hits requests; otherwise it hits
 * the service's messages (all of them, or one type). Every field the rule names must match (a route by prefix).
 */
function matches(rule: ChaosTarget, at: ChaosTarget): boolean {
  const place = at.dependency !== undefined ? 'call' : at.route !== undefined ? 'request' : 'message';
  const aims = rule.dependency !== undefined ? 'call' : rule.route !== undefined ? 'request' : rule.service !== undefined ? 'message' : 'nothing';
  if (place !== aims) return false;
  if (rule.service !== undefined && rule.service !== at.service) return false;
  if (rule.dependency !== undefined && rule.dependency !== at.dependency) return false;
  if (rule.messageType !== undefined && rule.messageType !== at.messageType) return false;
  if (rule.route !== undefined && !(at.route ?? '').startsWith(rule.route)) return false;
  return true;
}

function describe(at: ChaosTarget): string {
  return [at.service, at.dependency && `→ ${at.dependency}`, at.route, at.messageType].filter(Boolean).join(' ');
}
