/**
 * The fault plan of a run: every kill, pause, Redis restart and chaos rule with the moment it happens, drawn from the
 * seed before anything starts. Drawing it up front (rather than rolling dice as the run goes) makes the plan a pure
 * function of the seed, the processes and the duration, so `--seed N` replays the same faults at the same moments.
 */
import { LINK_FAULT_KINDS } from '../../runtime/redis/index.ts';
import { seededRandom, type ChaosRule } from '../../runtime/index.ts';

/** A rule as `ChaosStore.add` takes it. */
export type PlannedRule = Pick<ChaosRule, 'kind' | 'target' | 'probability' | 'latencyMs' | 'note' | 'fault'> & { durationMs: number };

export type PlannedFault =
  | { at: number; kind: 'kill'; target: string }
  | { at: number; kind: 'pause'; target: string; forMs: number }
  | { at: number; kind: 'redis-restart' }
  /** `--cluster`: a master SIGKILLed (its replica cut off first); `pick` (0–1) chooses among the masters then. */
  | { at: number; kind: 'master-kill'; pick: number }
  | { at: number; kind: 'rule'; rule: PlannedRule };

/**
 * Message types whose loss the system recovers from by itself: the commands a saga sends and the replies it waits
 * for. A saga re-sends a command whose reply does not come (and every receiver answers a repeat the same way), so
 * a dropped command or reply costs a timeout, not an order. Messages inside a service (a reservation asking its
 * SKUs to hold stock, the saga's start, the fire-and-forget commit after completion) have no such end-to-end retry:
 * the runtime never loses them, and a drop rule on them would test a promise nobody made (see the Guarantees).
 */
export const DROPPABLE: Readonly<Record<string, readonly string[]>> = {
  order: [
    'create', 'confirm', 'cancel',
    'order.created', 'order.confirmed', 'order.cancelled',
    'inventory.reserved', 'inventory.rejected', 'inventory.released',
    'payment.charged', 'payment.failed', 'payment.refunded', 'payment.refundFailed',
    'shipping.scheduled', 'shipping.rejected', 'shipping.cancelled',
  ],
  inventory: ['reserve', 'release'],
  payment: ['charge', 'refund'],
  shipping: ['schedule', 'cancel'],
};

const ACTOR_SERVICES = ['order', 'inventory', 'payment', 'shipping'] as const;

export type PlanInput = {
  seed: number;
  chaosMs: number;
  /** Processes that may be SIGKILLed. */
  victims: readonly string[];
  /** Nodes of the actor services, which may be paused past their lease. */
  pausable: readonly string[];
  killEveryMs: { min: number; max: number };
  pauses: number;
  /** Drop rules may hit every message of a service (an experiment), not only the `DROPPABLE` ones. */
  dropAny?: boolean;
  /** On a cluster the Redis blow is a master's death and failover, not a restart of the one Redis. */
  cluster?: boolean;
  /** Victims killed at least once whatever the draw (one of the drawn kills is turned on each that none hit). */
  alwaysKill?: readonly string[];
};

/**
 * The plan, sorted by time.
 *
 * @example
 * const plan = planFaults({ seed: 7, chaosMs: 60_000, victims: ['order', 'gateway'], pausable: ['order'], killEveryMs: { min: 5_000, max: 10_000 }, pauses: 1 });
 * plan.filter((f) => f.kind === 'redis-restart').length; // 1
 */
export function planFaults(input: PlanInput): PlannedFault[] {
  const random = seededRandom(input.seed);
  const between = (min: number, max: number) => min + random() * (max - min);
  const int = (min: number, max: number) => Math.floor(between(min, max + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const end = input.chaosMs;
  const plan: PlannedFault[] = [];

  // Redis restarts once, in the middle third, 3–4.5 s after a node of an actor service was killed: right when the
  // survivors take its partitions over (lease TTL 3 s), the moment a takeover is most fragile. Other kills and the
  // pauses keep clear of it, so each recovery is measured alone.
  const redisAt = Math.round(between(0.35, 0.6) * end);
  plan.push(input.cluster ? { at: redisAt, kind: 'master-kill', pick: random() } : { at: redisAt, kind: 'redis-restart' });
  plan.push({ at: Math.round(redisAt - between(3_000, 4_500)), kind: 'kill', target: pick(input.pausable) });
  const nearRedis = (at: number, before: number, after: number) => at > redisAt - before && at < redisAt + after;

  for (let at = between(2_000, 4_000); at < end - 2_000; at += between(input.killEveryMs.min, input.killEveryMs.max)) {
    if (nearRedis(at, 7_000, 6_000)) at = redisAt + 6_000;
    plan.push({ at: Math.round(at), kind: 'kill', target: pick(input.victims) });
  }
  const drawn = plan.filter((f): f is Extract<PlannedFault, { kind: 'kill' }> => f.kind === 'kill').slice(1);
  for (const target of input.alwaysKill ?? []) {
    if (drawn.length > 0 && !drawn.some((f) => f.target === target)) pick(drawn).target = target;
  }

  const slot = end / input.pauses;
  for (let i = 0; i < input.pauses; i++) {
    let at = between(i * slot + 0.1 * slot, i * slot + 0.8 * slot);
    if (nearRedis(at, 8_000, 10_000)) at = Math.min(end - 8_000, redisAt + 10_000);
    plan.push({ at: Math.round(at), kind: 'pause', target: pick(input.pausable), forMs: Math.round(between(3_500, 5_000)) });
  }

  for (let at = between(1_000, 3_000); at < end - 1_000; at += between(2_000, 6_000)) {
    plan.push({ at: Math.round(at), kind: 'rule', rule: drawRule(random, int, between, pick, input.dropAny ?? false) });
  }
  return plan.sort((a, b) => a.at - b.at);
}

function drawRule(
  random: () => number,
  int: (min: number, max: number) => number,
  between: (min: number, max: number) => number,
  pick: <T>(xs: readonly T[]) => T,
  dropAny: boolean,
): PlannedRule {
  const durationMs = int(4_000, 12_000);
  const probability = Math.round(between(0.1, 0.3) * 100) / 100;
  const service = pick(ACTOR_SERVICES);
  switch (pick(['error', 'latency', 'drop', 'duplicate', 'provider-error', 'provider-latency', 'redis'] as const)) {
    case 'redis': {
      // The service's connections to Redis misbehave: calls fail, replies are lost after the command ran, the
      // connection resets or stalls. Rare per call: every turn makes several calls.
      const fault = pick(LINK_FAULT_KINDS);
      const chance = fault === 'latency' ? between(0.05, 0.2) : fault === 'reset' || fault === 'stall' ? between(0.002, 0.01) : between(0.01, 0.05);
      return { kind: 'redis', fault, target: { service }, probability: Math.round(chance * 1000) / 1000, durationMs, note: `chaos run: redis ${fault} in ${service}` };
    }
    case 'error':
      return { kind: 'error', target: { service }, probability, durationMs, note: `chaos run: step errors in ${service}` };
    case 'latency':
      return { kind: 'latency', target: { service }, probability: Math.round(between(0.2, 0.6) * 100) / 100, latencyMs: { min: 0, max: int(100, 500) }, durationMs, note: `chaos run: latency in ${service}` };
    case 'drop': {
      const messageType = pick(DROPPABLE[service]!);
      if (dropAny) return { kind: 'drop', target: { service }, probability, durationMs, note: `chaos run: drop any message at ${service}` };
      return { kind: 'drop', target: { service, messageType }, probability, durationMs, note: `chaos run: drop ${messageType} at ${service}` };
    }
    case 'duplicate':
      return { kind: 'duplicate', target: { service }, probability, durationMs, note: `chaos run: duplicate messages in ${service}` };
    case 'provider-error':
      return { kind: 'error', target: { service: 'payment', dependency: 'provider' }, probability, durationMs, note: 'chaos run: provider calls fail' };
    case 'provider-latency':
      return {
        kind: 'latency',
        target: { service: 'payment', dependency: 'provider' },
        probability: Math.round(between(0.2, 0.6) * 100) / 100,
        latencyMs: { min: 0, max: int(100, 500) },
        durationMs,
        note: 'chaos run: slow provider calls',
      };
  }
}
