/**
 * Failure injection for the provider: rules (an error rate, added latency, an expiry) kept in Redis at
 * `…:svc:provider:faults`, so they survive a restart and the control plane can set them too, and the gate every card
 * request passes first. The gate also counts what reaches the provider, which is how a test (or the panel) sees that
 * an open breaker upstream stopped the calls.
 */
import { HttpError } from '../../runtime/http/index.ts';
import { systemRandom, type Random } from '../../runtime/index.ts';
import type { ProviderKeys } from './keys.ts';
import { NO_FAULTS, ProviderErrorCode, type FaultRules, type FaultRulesInput, type RequestCounts } from './protocol.ts';
import type { RedisCall } from './scripts.ts';

export type CardRequest = 'charges' | 'refunds' | 'voids';

type Options = {
  random?: Random;
  clock?: { now(): number };
  sleep?: (ms: number) => Promise<unknown>;
};

export class FaultInjector {
  private readonly random: Random;
  private readonly clock: { now(): number };
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    private readonly call: RedisCall,
    private readonly keys: ProviderKeys,
    options: Options = {},
  ) {
    this.random = options.random ?? systemRandom;
    this.clock = options.clock ?? Date;
    this.sleep = options.sleep ?? Bun.sleep;
  }

  /** The rules in force now (inactive once they expired or were cleared). */
  async rules(): Promise<FaultRules> {
    const json = (await this.call(['GET', this.keys.faults])) as string | null;
    return json ? (JSON.parse(json) as FaultRules) : NO_FAULTS;
  }

  /**
   * Replaces the rules; with `durationMs` they expire on their own (Redis drops the key).
   *
   * @example
   * await faults.set({ errorRate: 0.5, latencyMs: { min: 50, max: 400 }, durationMs: 60_000 });
   */
  async set(input: FaultRulesInput): Promise<FaultRules> {
    if (input.latencyMs && input.latencyMs.min > input.latencyMs.max) {
      throw new HttpError(
        422,
        ProviderErrorCode.InvalidFaults,
        `latencyMs.min (${input.latencyMs.min}) is above latencyMs.max (${input.latencyMs.max}); give min ≤ max`,
      );
    }
    const setAt = this.clock.now();
    const rules: FaultRules = { active: true, errorRate: input.errorRate, setAt };
    if (input.latencyMs) rules.latencyMs = input.latencyMs;
    if (input.durationMs !== undefined) rules.expiresAt = setAt + input.durationMs;
    const args = ['SET', this.keys.faults, JSON.stringify(rules)];
    if (input.durationMs !== undefined) args.push('PX', String(input.durationMs));
    await this.call(args);
    return rules;
  }

  async clear(): Promise<FaultRules> {
    await this.call(['DEL', this.keys.faults]);
    return NO_FAULTS;
  }

  /**
   * What every card request goes through before the ledger: it is counted, delayed by the latency rule, and failed
   * with a 503 `INJECTED_FAULT` by the error rate.
   *
   * @example
   * await faults.gate('charges'); // throws HttpError(503, 'INJECTED_FAULT', …) when the dice say so
   */
  async gate(kind: CardRequest): Promise<void> {
    const [rules] = await Promise.all([this.rules(), this.count(kind)]);
    if (!rules.active) return;
    if (rules.latencyMs && rules.latencyMs.max > 0) {
      const { min, max } = rules.latencyMs;
      await this.sleep(min + Math.floor(this.random() * (max - min + 1)));
    }
    if (rules.errorRate > 0 && this.random() < rules.errorRate) {
      await this.call(['HINCRBY', this.keys.requests, 'injectedFaults', '1']);
      throw new HttpError(
        503,
        ProviderErrorCode.InjectedFault,
        `injected fault: the provider fails ${Math.round(rules.errorRate * 100)}% of card requests on purpose` +
          (rules.expiresAt ? ` until ${new Date(rules.expiresAt).toISOString()}` : '') +
          '; DELETE /faults to stop it',
      );
    }
  }

  /** Card requests received so far, by kind. */
  async counts(): Promise<RequestCounts> {
    const flat = (await this.call(['HGETALL', this.keys.requests])) as string[] | Record<string, string>;
    const raw: Record<string, string> = Array.isArray(flat)
      ? Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1] ?? '0']] : [])))
      : flat;
    const n = (field: string) => Number(raw[field] ?? 0);
    return {
      total: n('charges') + n('refunds') + n('voids'),
      charges: n('charges'),
      refunds: n('refunds'),
      voids: n('voids'),
      injectedFaults: n('injectedFaults'),
    };
  }

  private count(kind: CardRequest): Promise<unknown> {
    return this.call(['HINCRBY', this.keys.requests, kind, '1']);
  }
}
