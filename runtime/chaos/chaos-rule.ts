/**
 * Failure-injection rules: what can go wrong, where, how often and until when. They are kept in Redis so every
 * process applies the same ones (the control plane writes them; nodes, HTTP apps and HTTP clients read them), and
 * each has an expiry so a forgotten rule heals by itself.
 */

import { LINK_FAULT_KINDS, type LinkFaultKind } from '../redis/link-fault-kinds.ts';

export const CHAOS_KINDS = ['error', 'latency', 'drop', 'duplicate', 'delay', 'pause', 'redis'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

/**
 * Where a rule applies. Every given field must match; an empty target matches nothing (a rule must say where).
 * - `dependency` (optionally with the calling `service`): calls an HTTP client makes to it, e.g. `provider` (error,
 *   latency);
 * - `route` (optionally with `service`, the process name): requests whose path starts with it (error, latency);
 * - otherwise `service` (optionally with `messageType`): messages its actors receive (error, latency/delay, drop,
 *   duplicate); with kind `pause`, the service's consumers stop reading until the rule expires; with kind `redis`,
 *   the service's connections to Redis misbehave (`fault`: a call fails before it is sent, its reply is lost after
 *   it ran, the connection resets, or it is held — latency or a stall) in nodes started with
 *   `MAILROOM_CHAOS_REDIS=1`.
 */
export type ChaosTarget = { service?: string; messageType?: string; route?: string; dependency?: string };

export type ChaosRule = {
  id: string;
  kind: ChaosKind;
  target: ChaosTarget;
  /** Chance that one message, request or call is affected, 0–1. */
  probability: number;
  /** For latency and delay: a uniform pick in [min, max] ms. */
  latencyMs?: { min: number; max: number };
  /** For HTTP errors: the status answered (default 503). */
  status?: number;
  /** For `redis` rules: what goes wrong with a call to Redis. */
  fault?: LinkFaultKind;
  createdAt: number;
  expiresAt: number;
  note?: string;
};

export class InjectedFault extends Error {
  readonly code = 'INJECTED_FAULT';
  constructor(
    readonly rule: ChaosRule,
    readonly status = rule.status ?? 503,
  ) {
    super(`injected fault (chaos rule ${rule.id}${rule.note ? `: ${rule.note}` : ''})`);
  }
}

/** Problems with a rule, in words a person can act on (empty when it is valid). */
export function ruleProblems(rule: Partial<ChaosRule>): string[] {
  const out: string[] = [];
  if (!rule.kind || !CHAOS_KINDS.includes(rule.kind)) out.push(`kind must be one of ${CHAOS_KINDS.join(', ')}`);
  const t = rule.target ?? {};
  if (!t.service && !t.dependency) out.push('target needs a service or a dependency');
  if (rule.kind === 'pause' && (!t.service || t.messageType || t.route || t.dependency)) out.push('a pause rule targets a service only');
  if (rule.kind === 'redis' && (!t.service || t.messageType || t.route || t.dependency)) out.push("a redis rule targets a service only (its nodes' connections to Redis)");
  if (rule.kind === 'redis' && !LINK_FAULT_KINDS.includes(rule.fault as LinkFaultKind)) out.push(`a redis rule needs a fault: one of ${LINK_FAULT_KINDS.join(', ')}`);
  if (rule.kind !== 'redis' && rule.fault !== undefined) out.push('fault applies to redis rules only');
  if (['drop', 'duplicate'].includes(rule.kind ?? '') && (!t.service || t.route || t.dependency)) out.push(`a ${rule.kind} rule targets a service's messages (service, optional messageType)`);
  if (typeof rule.probability !== 'number' || !(rule.probability >= 0 && rule.probability <= 1)) out.push('probability must be between 0 and 1');
  if ((rule.kind === 'latency' || rule.kind === 'delay') && !(rule.latencyMs && rule.latencyMs.min >= 0 && rule.latencyMs.max >= rule.latencyMs.min && rule.latencyMs.max <= 60_000)) {
    out.push('latencyMs needs 0 ≤ min ≤ max ≤ 60000');
  }
  if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 400 && rule.status <= 599)) out.push('status must be an HTTP error status (400–599)');
  return out;
}
