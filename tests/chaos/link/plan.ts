/**
 * What one seed of the link chaos run does, drawn from the seed alone: how many nodes (and how each delivers its
 * turns' messages), which calls the faults aim at (every call, only the commit script, or only XADDs — the relay,
 * sends and effect outcomes; a node whose commits deliver their messages themselves has no relay XADDs), how likely
 * each fault is on each node's connections, how often a lease is stolen and for how long, and how many actors of
 * each kind the clients use. The same seed gives the same plan; the exact interleaving still depends on timing.
 */
import { seededRandom } from '../../../runtime/index.ts';
import { type LinkFaultPlan } from '../../../runtime/redis/index.ts';

export type LinkFocus = 'all' | 'commit' | 'xadd';

export type SchedulePlan = {
  seed: number;
  nodes: number;
  partitions: number;
  leaseTtlMs: number;
  focus: LinkFocus;
  /**
   * How each node's turns deliver their messages: the nodes alternate between the commit delivering them itself and
   * the outbox relay, so both paths meet the faults, and partitions move between nodes of either kind.
   */
  deliveries: ('commit' | 'relay')[];
  /** The fault plan of one node's connection (role: its main link or a partition's doorbell). */
  faults(node: number, role: 'main' | 'doorbell', n: number): LinkFaultPlan;
  /** Milliseconds between two lease steals, and how long the thief holds one. */
  stealEveryMs: [number, number];
  stealHoldMs: [number, number];
  counters: number;
  pingers: number;
  alarms: number;
  payers: number;
  /** Concurrent client loops sending adds / asking pings. */
  senders: number;
  askers: number;
};

const FOCI: LinkFocus[] = ['all', 'commit', 'xadd'];

export function planSchedule(seed: number): SchedulePlan {
  const random = seededRandom(seed);
  const pick = (lo: number, hi: number) => lo + random() * (hi - lo);
  const focus = FOCI[seed % FOCI.length]!;
  // Aimed faults hit far fewer calls, so they may be likelier per call.
  const scale = focus === 'all' ? 1 : 6;
  const probability = {
    fail: pick(0.005, 0.02) * scale,
    'drop-reply': pick(0.005, 0.02) * scale,
    reset: pick(0.0005, 0.002) * scale,
    latency: pick(0.02, 0.08),
    stall: pick(0.0003, 0.001) * scale,
  };
  const only = focus === 'commit' ? { scripts: ['commit-turn-12'] } : focus === 'xadd' ? { commands: ['XADD'] } : undefined;
  const nodes = 2 + Math.floor(random() * 2);
  return {
    seed,
    nodes,
    deliveries: Array.from({ length: nodes }, (_, i) => ((seed + i) % 2 === 0 ? 'commit' : 'relay')),
    partitions: 4,
    leaseTtlMs: 1_000,
    focus,
    faults: (node, role, n) => ({
      seed: (seed * 7919 + node * 104_729 + n * 31 + (role === 'main' ? 0 : 17)) >>> 0,
      probability,
      only,
      latencyMs: [2, 30],
      stallMs: [100, 900],
      afterReset: [0, 3],
      healed: true,
    }),
    stealEveryMs: [Math.round(pick(250, 500)), Math.round(pick(600, 1_200))],
    stealHoldMs: [50, Math.round(pick(300, 900))],
    counters: 8 + Math.floor(random() * 8),
    pingers: 4 + Math.floor(random() * 4),
    alarms: 6 + Math.floor(random() * 6),
    payers: 20 + Math.floor(random() * 20),
    senders: 4,
    askers: 3,
  };
}
