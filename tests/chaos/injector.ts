/**
 * Carries out a fault plan against the running system: SIGKILLs processes and measures how long each takes to be
 * healthy with its partitions owned again, SIGSTOPs a node past its lease and resumes it, kills Redis once and lets
 * the supervisor start it again from the same AOF (checking that nothing it had acknowledged was lost), and writes
 * the chaos rules. `heal()` stops the plan, removes every rule and wakes anything still paused.
 */
import type { ChaosStore } from '../../runtime/ops/index.ts';
import { providerKeys } from '../../services/payment-provider/keys.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { killMaster, type MasterKillRecord } from './master-kill.ts';
import type { PlannedFault, PlannedRule } from './plan.ts';
import { partitionsHeldBy, serviceOf, waitAllRecovered, waitRecovered, type Monitor } from './recovery.ts';
import type { ChaosSystem } from './system.ts';

export type KillRecord = { at: number; target: string; pid: number; recoveredMs?: number };
export type PauseRecord = { at: number; target: string; pid: number; forMs: number; held: number[]; movedAway: number[] };
export type RedisRestartRecord = {
  at: number;
  pid: number;
  newPid?: number;
  recoveredMs?: number;
  stragglers: string[];
  /** Counters that only grow, read just before the kill and again after: any that went down lost writes. */
  before: Record<string, number>;
  after: Record<string, number>;
};
/** A master killed on a cluster (see master-kill.ts), then everything back as after a Redis restart. */
export type MasterKillReport = MasterKillRecord & { recoveredMs?: number; stragglers: string[]; before: Record<string, number>; after: Record<string, number> };
export type RuleRecord = { at: number; rule: PlannedRule; id?: string; error?: string };

export type InjectorReport = {
  kills: KillRecord[];
  pauses: PauseRecord[];
  redisRestarts: RedisRestartRecord[];
  masterKills: MasterKillReport[];
  rules: RuleRecord[];
  /** Planned faults that could not be carried out (e.g. the target was already down), with why. */
  skipped: string[];
};

export type Injector = {
  report: InjectorReport;
  /** Stops the plan, resumes paused processes and removes every rule (resolves once they are gone). */
  heal(): Promise<void>;
  /** Resolves once the faults under way have been measured (a recovery after a kill takes up to 60 s). */
  done(): Promise<void>;
};

/**
 * Starts carrying out `plan` (times are ms after the call).
 *
 * @example
 * const injector = startInjector(system, plan, store, monitor, console.log);
 * await Bun.sleep(60_000);
 * await injector.heal();
 */
export function startInjector(system: ChaosSystem, plan: PlannedFault[], store: ChaosStore, redis: Monitor, log: (line: string) => void): Injector {
  const report: InjectorReport = { kills: [], pauses: [], redisRestarts: [], masterKills: [], rules: [], skipped: [] };
  const start = Date.now();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const work = new Set<Promise<unknown>>();
  const paused = new Set<number>();
  let healed = false;
  const spawn = (p: Promise<unknown>) => {
    const settled = p.catch((error) => report.skipped.push(`a fault failed at ${elapsed()}: ${error instanceof Error ? error.message : String(error)}`));
    work.add(settled);
    void settled.finally(() => work.delete(settled));
  };
  const elapsed = () => `${((Date.now() - start) / 1000).toFixed(1)} s`;

  const kill = async (target: string) => {
    const pid = system.pid(target);
    if (pid === undefined) return void report.skipped.push(`kill ${target} at ${elapsed()}: not running (still restarting)`);
    const at = Date.now();
    process.kill(pid, 'SIGKILL');
    const record: KillRecord = { at, target, pid };
    report.kills.push(record);
    log(`${elapsed()}  SIGKILL ${target} (pid ${pid})`);
    record.recoveredMs = await waitRecovered(system, redis, target, pid, at);
    log(`${elapsed()}  ${target} recovered ${record.recoveredMs === undefined ? 'NOT within 60 s' : `in ${record.recoveredMs} ms`}`);
  };

  const pause = async (target: string, forMs: number) => {
    const pid = system.pid(target);
    if (pid === undefined) return void report.skipped.push(`pause ${target} at ${elapsed()}: not running`);
    const service = serviceOf(system, target)!;
    const held = await partitionsHeldBy(system, redis, service, pid).catch((): number[] => []);
    process.kill(pid, 'SIGSTOP');
    paused.add(pid);
    log(`${elapsed()}  SIGSTOP ${target} (pid ${pid}, holding partitions ${held.join(',') || 'none'}) for ${forMs} ms`);
    await Bun.sleep(forMs);
    // Which of its partitions another node took over while it slept (only possible with replicas).
    const still = await partitionsHeldBy(system, redis, service, pid).catch(() => held);
    const movedAway = held.filter((p) => !still.includes(p));
    if (paused.delete(pid)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // SIGKILLed while it slept (a kill of the plan hit it): the supervisor has started another already.
      }
    }
    report.pauses.push({ at: Date.now() - forMs, target, pid, forMs, held, movedAway });
    log(`${elapsed()}  SIGCONT ${target}; ${movedAway.length} of its ${held.length} partitions had moved to another node`);
  };

  const restartRedis = async () => {
    const pid = system.pid('redis');
    if (pid === undefined) return void report.skipped.push(`redis restart at ${elapsed()}: redis not running`);
    const before = await monotonicCounters(system, redis);
    const at = Date.now();
    process.kill(pid, 'SIGKILL');
    log(`${elapsed()}  kill -9 redis (pid ${pid}); the supervisor starts it again from ${system.dir}/redis`);
    const record: RedisRestartRecord = { at, pid, stragglers: [], before, after: {} };
    report.redisRestarts.push(record);
    const { ms, stragglers } = await waitAllRecovered(system, redis, at);
    record.recoveredMs = ms;
    record.stragglers = stragglers;
    record.newPid = system.pid('redis');
    record.after = await monotonicCounters(system, redis).catch(() => ({}));
    log(`${elapsed()}  redis back (pid ${record.newPid}); everything recovered ${ms === undefined ? `NOT within 60 s (${stragglers.join('; ')})` : `in ${ms} ms`}`);
  };

  const failOver = async (pick: number) => {
    const before = await monotonicCounters(system, redis);
    const killed = await killMaster(system, pick, 1_000, 2_000, (line) => log(`${elapsed()}  ${line}`));
    const record: MasterKillReport = { ...killed, stragglers: [], before, after: {} };
    report.masterKills.push(record);
    const { ms, stragglers } = await waitAllRecovered(system, redis, killed.at);
    record.recoveredMs = ms;
    record.stragglers = stragglers;
    record.after = await monotonicCounters(system, redis).catch(() => ({}));
    log(`${elapsed()}  after the master kill everything recovered ${ms === undefined ? `NOT within 60 s (${stragglers.join('; ')})` : `${ms} ms after the kill`}`);
  };

  const addRule = async (rule: PlannedRule) => {
    const record: RuleRecord = { at: Date.now(), rule };
    report.rules.push(record);
    try {
      record.id = (await store.add(rule)).id;
    } catch (error) {
      // Redis may be down this very moment: the rule is lost with it, as an operator's would be.
      record.error = error instanceof Error ? error.message : String(error);
    }
  };

  for (const fault of plan) {
    timers.push(
      setTimeout(() => {
        if (healed) return;
        if (fault.kind === 'kill') spawn(kill(fault.target));
        else if (fault.kind === 'pause') spawn(pause(fault.target, fault.forMs));
        else if (fault.kind === 'redis-restart') spawn(restartRedis());
        else if (fault.kind === 'master-kill') spawn(failOver(fault.pick));
        else spawn(addRule(fault.rule));
      }, fault.at),
    );
  }

  return {
    report,
    async heal() {
      healed = true;
      for (const t of timers) clearTimeout(t);
      for (const pid of paused) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {}
      }
      paused.clear();
      for (let attempt = 0; ; attempt++) {
        try {
          await store.clear();
          break;
        } catch (error) {
          if (attempt > 50) throw error;
          await Bun.sleep(200);
        }
      }
    },
    async done() {
      while (work.size > 0) await Promise.all([...work]);
    },
  };
}

/**
 * Counters that never go down while the system runs: the provider's charge, refund and void counts, and how many
 * actors the order service has. Acknowledged writes survive a SIGKILL of Redis (the AOF is written before any reply
 * leaves), so none of them may be lower after the restart.
 */
async function monotonicCounters(system: ChaosSystem, redis: Monitor): Promise<Record<string, number>> {
  const totals = await redis.hGetAll(providerKeys(system.prefix).totals);
  const actors = await Promise.all([...Array(8).keys()].map((p) => redis.hLen(partitionKeys(system.prefix, 'order', p).index)));
  return {
    'provider charges': Number(totals.charges ?? 0),
    'provider refunds': Number(totals.refunds ?? 0),
    'provider voids': Number(totals.voids ?? 0),
    'order actors': actors.reduce((a, b) => a + Number(b), 0),
  };
}
