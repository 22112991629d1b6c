/**
 * One seed of the link chaos run: 2–3 in-process nodes of the test service on the real Redis (a key prefix of its
 * own), each connection of each node wrapped in a fault link with its own seed; the clients send, ask, arm and pay
 * while a thief steals leases; then the links heal, the clients finish their retries, and the run waits until the
 * checks pass or the settle time is up. The checks' last word is the schedule's verdict.
 */
import { createNode, type MailroomNode } from '../../../runtime/index.ts';
import { LINK_FAULT_KINDS, withFaults, type FaultLink, type LinkFaultKind } from '../../../runtime/redis/index.ts';
import { openLink } from '../../../runtime/redis/link.ts';
import { cleanupPrefix } from '../../helpers/redis.ts';
import { alarm, counter, makePayer, mirror, pinger, SERVICE } from './actors.ts';
import { checkLinkRun, type LinkViolation } from './checks.ts';
import { watchEvents } from './event-watch.ts';
import { openReader, readLinkState } from './final-state.ts';
import { startThief } from './lease-thief.ts';
import { startLoad } from './load.ts';
import { planSchedule, type LinkFocus } from './plan.ts';

export type ScheduleOptions = { seed: number; redis: string; chaosMs: number; settleMs: number };

export type ScheduleResult = {
  seed: number;
  focus: LinkFocus;
  nodes: number;
  durationMs: number;
  /** From healing until every check passed; null when they never did within the settle time. */
  settledMs: number | null;
  faults: Record<LinkFaultKind, number>;
  steals: number;
  leasesLost: number;
  sent: { adds: number; asks: number; arms: number; pays: number; retries: number };
  events: { distinct: number; deliveries: number; gaps: number };
  /** Effects that ran more than once (allowed: at-least-once), by idempotency key count. */
  effectReruns: number;
  /** Errors the nodes reported, by where (digits folded), for diagnosis. */
  nodeErrors: Record<string, number>;
  violations: LinkViolation[];
};

const STOP_WAIT_MS = 5_000;
const IDLE_SAMPLE_MS = 1_000;
/** Lease ticks (~3/s, a few calls per partition) and a blocking read per owned partition come to a few dozen. */
const IDLE_MAX_CALLS_PER_S = 300;

export async function runSchedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const started = Date.now();
  const { seed, redis } = options;
  const plan = planSchedule(seed);
  const prefix = `chaoslink:${seed}:${process.pid}:${started.toString(36)}`;
  const ledgerKey = `${prefix}:ledger`;
  const payer = makePayer(redis, ledgerKey, seed);
  const links: FaultLink[] = [];
  /** The node each link belongs to. */
  const linkNode: number[] = [];
  const nodeErrors: Record<string, number> = {};
  let faulting = false;
  let leasesLost = 0;
  const nodes: MailroomNode[] = [];
  const admin = await openReader(redis);
  const thiefLink = await openLink(redis, 'node-redis');

  try {
    for (let i = 0; i < plan.nodes; i++) {
      let opened = 0;
      nodes.push(
        await createNode({
          service: SERVICE,
          actors: [counter, mirror, pinger, alarm, payer.actor],
          keyPrefix: prefix,
          redis,
          partitions: plan.partitions,
          delivery: plan.deliveries[i],
          leaseTtlMs: plan.leaseTtlMs,
          nodeId: `lk${seed}-n${i}`,
          retryBaseMs: 20,
          inspectStream: 'off',
          inspect: (e) => {
            if (e.type === 'lease.moved' && e.from === `lk${seed}-n${i}` && e.to === '(lost)') leasesLost++;
          },
          onError: (_error, where) => {
            const key = where.replace(/\d+/g, 'N');
            nodeErrors[key] = (nodeErrors[key] ?? 0) + 1;
          },
          wrapLink: (link, role) => {
            const f = withFaults(link, plan.faults(i, role, opened++));
            if (faulting) f.resume();
            links.push(f);
            linkNode.push(i);
            return f;
          },
        }),
      );
    }
    // Every partition owned before the faults start, so the first seconds test faults, not the start-up.
    for (let t = 0; t < 100 && nodes.reduce((n, node) => n + node.owned().length, 0) < plan.partitions; t++) await Bun.sleep(50);
    const watch = await watchEvents({ redis, prefix, service: SERVICE });

    faulting = true;
    for (const f of links) f.resume();
    const thief = startThief({
      link: thiefLink,
      prefix,
      service: SERVICE,
      partitions: plan.partitions,
      seed,
      everyMs: plan.stealEveryMs,
      holdMs: plan.stealHoldMs,
      onError: () => {},
    });
    const load = startLoad(nodes, plan);
    await Bun.sleep(options.chaosMs);

    // Heal: no new work, the thief gives its lease back, the links stop failing; the clients' retries go through.
    load.stopSending();
    await thief.stop();
    faulting = false;
    for (const f of links) f.heal();
    const healAt = Date.now();
    const deadline = healAt + options.settleMs;
    let loadDone = false;
    const finishing = load.finish(deadline).then(() => (loadDone = true));
    const addresses = () => [
      ...load.record.adds.keys(),
      ...[...load.record.adds.keys()].map((a) => a.replace('/counter/', '/mirror/')),
      ...load.record.asks.keys(),
      ...[...Array(plan.alarms).keys()].map((i) => `${SERVICE}/alarm/a${i}`),
      ...load.record.pays,
    ];
    let settledMs: number | null = null;
    let violations: LinkViolation[] = [];
    for (;;) {
      const state = await readLinkState(admin, prefix, plan.partitions, addresses(), ledgerKey);
      violations = checkLinkRun(seed, plan.partitions, load.record, state, watch);
      if (loadDone && violations.length === 0) {
        settledMs = Date.now() - healAt;
        break;
      }
      if (Date.now() > deadline && loadDone) break;
      await Bun.sleep(150);
    }
    await finishing;
    const ledger = await admin.hGetAll(ledgerKey);

    // Idle now: a node's connections should carry little more than lease ticks and blocking reads.
    const before = links.map((f) => f.calls);
    await Bun.sleep(IDLE_SAMPLE_MS);
    const perNode = new Map<number, number>();
    links.forEach((f, i) => perNode.set(linkNode[i]!, (perNode.get(linkNode[i]!) ?? 0) + f.calls - before[i]!));
    for (const [i, calls] of perNode) {
      const rate = Math.round((calls * 1_000) / IDLE_SAMPLE_MS);
      if (rate > IDLE_MAX_CALLS_PER_S) violations.push({ seed, check: 'idle', detail: `node lk${seed}-n${i} made ${rate} Redis calls/s with nothing to do (at most ${IDLE_MAX_CALLS_PER_S} expected): a loop spinning` });
    }

    for (const node of nodes.splice(0)) {
      const stopped = await Promise.race([node.stop().then(() => true), Bun.sleep(STOP_WAIT_MS).then(() => false)]);
      if (!stopped) violations.push({ seed, check: 'stop', detail: `node ${node.nodeId} did not stop within ${STOP_WAIT_MS / 1000} s after healing` });
    }
    await watch.stop();

    const faults = Object.fromEntries(LINK_FAULT_KINDS.map((k) => [k, links.reduce((n, f) => n + f.injected[k], 0)])) as Record<LinkFaultKind, number>;
    const r = load.record;
    return {
      seed,
      focus: plan.focus,
      nodes: plan.nodes,
      durationMs: Date.now() - started,
      settledMs,
      faults,
      steals: thief.stolen,
      leasesLost,
      sent: {
        adds: [...r.adds.values()].reduce((n, a) => n + a.count, 0),
        asks: [...r.asks.values()].reduce((n, a) => n + a.sent, 0),
        arms: r.arms,
        pays: r.pays.length,
        retries: r.retries,
      },
      events: { distinct: watch.distinct(), deliveries: watch.deliveries, gaps: watch.gaps.length },
      effectReruns: Object.values(ledger).filter((n) => Number(n) > 1).length,
      nodeErrors,
      violations,
    };
  } finally {
    await Promise.all(nodes.map((n) => Promise.race([n.stop().catch(() => {}), Bun.sleep(STOP_WAIT_MS)])));
    await payer.close();
    await thiefLink.close();
    await admin.quit().catch(() => admin.destroy());
    await cleanupPrefix(prefix, redis);
  }
}
