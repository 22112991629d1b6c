/**
 * Writing the chaos rules (the operator's side): add one with a time limit, list those in force (removing expired
 * ones on the way), remove one, clear all. Every process's rule book (`runtime/chaos/rule-book.ts`) follows what
 * this writes.
 */
import { ruleProblems, type ChaosRule } from '../chaos/chaos-rule.ts';
import { parseRules } from '../chaos/rule-book.ts';
import { systemClock, type Clock } from '../clock.ts';
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { globalKeys } from '../keys.ts';
import { openLink, type RedisLink } from '../redis/link.ts';

/** Reading and writing the rules (the control plane's side). */
export class ChaosStore {
  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string = keyPrefixOf(),
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Adds a rule; throws with every problem named when it is invalid.
   *
   * @example
   * await store.add({ kind: 'error', target: { dependency: 'provider' }, probability: 1, durationMs: 30_000 });
   */
  async add(input: Omit<ChaosRule, 'id' | 'createdAt' | 'expiresAt'> & { id?: string; durationMs: number }): Promise<ChaosRule> {
    const now = this.clock.now();
    const { durationMs, ...rest } = input;
    const rule: ChaosRule = { ...rest, id: input.id ?? `r-${now.toString(36)}-${Math.random().toString(36).slice(2, 6)}`, createdAt: now, expiresAt: now + durationMs };
    const problems = ruleProblems(rule);
    if (!(durationMs > 0 && durationMs <= 24 * 3600_000)) problems.push('durationMs must be between 1 ms and 24 h');
    if (problems.length) throw new Error(`invalid chaos rule: ${problems.join('; ')}`);
    const k = globalKeys(this.prefix);
    await this.link.call(['HSET', k.chaosRules, rule.id, JSON.stringify(rule)]);
    await this.link.call(['INCR', k.chaosVersion]);
    return rule;
  }

  /** Every rule still in force (expired ones are removed on the way). */
  async list(): Promise<ChaosRule[]> {
    const k = globalKeys(this.prefix);
    const rules = parseRules(await this.link.call(['HGETALL', k.chaosRules]));
    const now = this.clock.now();
    const expired = rules.filter((r) => r.expiresAt <= now);
    if (expired.length) {
      await this.link.call(['HDEL', k.chaosRules, ...expired.map((r) => r.id)]);
      await this.link.call(['INCR', k.chaosVersion]);
    }
    return rules.filter((r) => r.expiresAt > now).sort((a, b) => a.createdAt - b.createdAt);
  }

  async remove(id: string): Promise<boolean> {
    const k = globalKeys(this.prefix);
    const removed = Number(await this.link.call(['HDEL', k.chaosRules, id])) === 1;
    if (removed) await this.link.call(['INCR', k.chaosVersion]);
    return removed;
  }

  async clear(): Promise<void> {
    const k = globalKeys(this.prefix);
    await this.link.call(['DEL', k.chaosRules]);
    await this.link.call(['INCR', k.chaosVersion]);
  }
}

/** Opens a store on its own connection. */
export async function openChaosStore(options: { redis?: string; keyPrefix?: string; clock?: Clock } = {}): Promise<ChaosStore & { close(): Promise<void> }> {
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  const store = new ChaosStore(link, options.keyPrefix ?? keyPrefixOf(), options.clock);
  return Object.assign(store, { close: () => link.close() });
}
