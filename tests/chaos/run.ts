/**
 * `bun run chaos`: the whole shop under fire, then the books. It starts every process with its own Redis (AOF on)
 * and ports, places orders at a steady rate while a seeded plan SIGKILLs processes, pauses one past its lease,
 * restarts Redis once and writes chaos rules (step errors, latency, drops, duplicates, provider faults); then it
 * heals, waits for the system to settle and checks what Mailroom promises: every saga ended, the money and the stock
 * add up exactly, nothing is left in a mailbox, every dead letter has its reason, no duplicate had a second
 * effect, and every settled order has exactly one customer notice. It prints a table of figures (the last line is
 * JSON with `--json`) and exits 1 on any violation, naming the seed that reproduces the run. `--link` runs the
 * runtime alone against faulty Redis connections instead (tests/chaos/link/run-link.ts).
 */
import { openChaosStore } from '../../runtime/ops/index.ts';
import { commitReplicasFromEnv } from '../../runtime/index.ts';
import { CATALOGUE } from '../../services/inventory/catalogue.ts';
import type { CheckContext, Violation } from './check-context.ts';
import { checkFailover } from './check-failover.ts';
import { checkMailboxes } from './check-mailboxes.ts';
import { checkMoney } from './check-money.ts';
import { checkNotices } from './check-notices.ts';
import { checkOnce } from './check-once.ts';
import { checkRecovery } from './check-recovery.ts';
import { checkSagas } from './check-sagas.ts';
import { checkStock } from './check-stock.ts';
import { readFinalState } from './final-state.ts';
import { startInjector } from './injector.ts';
import { startLoad } from './load.ts';
import { observe } from './observer.ts';
import { replayInjectedDeadLetters, type Replayed } from './operator.ts';
import { parseOptions, UsageError, type ChaosOptions } from './options.ts';
import { planFaults } from './plan.ts';
import { openMonitor } from './recovery.ts';
import { figuresOf, renderFigures } from './report.ts';
import { waitSettled } from './settle.ts';
import { startChaosSystem, type ChaosSystem } from './system.ts';
import { watchPartitions } from './watchdog.ts';

const started = Date.now();
const say = (line: string) => console.log(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

let options: ChaosOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exit(2);
}
if (options.link) {
  // The runtime alone on faulty links (tests/chaos/link/): nothing of the shop is started.
  const { runLinkChaos } = await import('./link/run-link.ts');
  process.exit(await runLinkChaos(options, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
}
const given = (flag: string, value: unknown) => (process.argv.includes(flag) ? ` ${flag}${value === true ? '' : ` ${value}`}` : '');
const commitReplicas = commitReplicasFromEnv().replicas;
const reproduce = `${commitReplicas ? `MAILROOM_COMMIT_REPLICAS=${commitReplicas} ` : ''}bun run chaos${given('--cluster', true)} --seed ${options.seed}${given('--quick', true)}${given('--minutes', options.chaosMs / 60_000)}${given('--rate', options.rate)}${given('--replicas', options.replicas)}${given('--drop-any', true)}${given('--no-replay', true)}`;
say(`seed ${options.seed} — reproduce with: ${reproduce}`);

let system: ChaosSystem | undefined;
let stopping = false;
const onSignal = async () => {
  if (stopping) return;
  stopping = true;
  say('interrupted: stopping every process');
  await system?.stop(true);
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const violations: Violation[] = [];
let exitCode = 1;
try {
  system = await startChaosSystem({ seed: options.seed, replicas: options.replicas, cluster: options.cluster });
  if (system.cluster) say(`Redis Cluster: ${system.cluster.nodes.join(' ')} (3 masters, 3 replicas); commits wait for ${commitReplicas} replica(s)`);
  say(`system up: ${system.supervisor.processes().map((p) => `${p.name}:${p.pid}`).join(' ')} (port offset ${system.offset}, data in ${system.dir})`);
  const monitor = await openMonitor(system.redisUrl);
  const store = await openChaosStore({ redis: system.redisUrl, keyPrefix: system.prefix });
  const observer = await observe({ redis: system.redisUrl, keyPrefix: system.prefix });

  // Inventory answers its health check before its catalogue is in; the customers need the catalogue.
  const inventory = system.url('inventory', '');
  for (let tries = 0; ; tries++) {
    const listed = await fetch(`${inventory}/skus`).then((r) => r.json() as Promise<{ items: unknown[] }>).catch(() => ({ items: [] }));
    if (listed.items.length >= CATALOGUE.length) break;
    if (tries > 300) throw new Error('the catalogue was not seeded within 30 s');
    await Bun.sleep(100);
  }
  const seeded = new Map(CATALOGUE.map((item) => [item.sku, item.stock]));

  const plan = planFaults({
    seed: options.seed,
    chaosMs: options.chaosMs,
    victims: system.victims,
    pausable: Object.values(system.nodesOf).flat(),
    killEveryMs: options.killEveryMs,
    pauses: options.pauses,
    dropAny: options.dropAny,
    cluster: options.cluster,
    // The notices check is only worth something if the subscriber was killed mid-stream at least once.
    alwaysKill: ['notifications'],
  });
  const planned = (kind: string) => plan.filter((f) => f.kind === kind).length;
  const redisBlow = plan.find((f) => f.kind === 'redis-restart' || f.kind === 'master-kill')!;
  say(`plan: ${planned('kill')} kills, ${planned('pause')} pauses, 1 ${redisBlow.kind === 'master-kill' ? 'Redis master kill' : 'Redis restart'} at ${(redisBlow.at / 1000).toFixed(1)} s, ${planned('rule')} chaos rules over ${options.chaosMs / 1000} s`);

  const load = await startLoad({ seed: options.seed, rate: options.rate, urls: { gateway: system.url('gateway', ''), inventory }, log: say });
  const injector = startInjector(system, plan, store, monitor, say);
  const watchdog = watchPartitions(monitor, system.prefix);
  const progress = setInterval(() => {
    const accepted = load.orders.filter((o) => o.outcome === 'accepted').length;
    say(`progress: ${load.orders.length} orders placed, ${accepted} accepted, ${injector.report.kills.length} kills`);
  }, 30_000);
  await Bun.sleep(options.chaosMs);
  clearInterval(progress);

  // Heal: no more rules, kills or pauses; the customers stop ordering and wait for their last answers.
  const healAt = Date.now();
  say('healing: rules cleared, no more kills; waiting for the system to settle');
  let healed = false;
  let loadDone = false;
  const loading = load.stop().then(() => (loadDone = true));
  await injector.heal();
  const healing = injector.done().then(() => (healed = true));
  // The operator's part: once the rule books have dropped the rules (~250 ms), replay what the faults dead-lettered;
  // again a few seconds later for messages whose last retries were still under way.
  const replayed: Replayed[] = [];
  const replaying = (async () => {
    if (!options.replay) return;
    for (const wait of [1_000, 4_000]) {
      await Bun.sleep(wait);
      replayed.push(...(await replayInjectedDeadLetters(system!.redisUrl, system!.prefix)));
    }
  })();
  let replayedAll = false;
  void replaying.then(() => (replayedAll = true));
  let settled = await waitSettled(monitor, system.prefix, healAt + options.settleMs, () => healed && loadDone && replayedAll);
  const settledAfterHealMs = settled.at === undefined ? undefined : settled.at - healAt;
  if (settled.at === undefined) {
    violations.push({ check: 'sagas', message: `not settled within ${options.settleMs / 1000} s of healing: ${JSON.stringify(settled.last)}` });
    // Keep watching a while, to tell slow from stuck.
    settled = await waitSettled(monitor, system.prefix, Date.now() + (options.quick ? 30_000 : 90_000), () => healed && loadDone && replayedAll);
    say(settled.at === undefined ? `still not settled ${((Date.now() - healAt) / 1000).toFixed(0)} s after healing: ${JSON.stringify(settled.last)}` : `settled ${((settled.at - healAt) / 1000).toFixed(1)} s after healing`);
  } else say(`settled ${((settledAfterHealMs ?? 0) / 1000).toFixed(1)} s after healing`);
  await Promise.all([healing, loading, replaying]);
  await watchdog.stop();

  const state = await readFinalState(system.redisUrl, system.prefix, monitor);
  const ctx: CheckContext = { state, orders: load.orders, restocks: load.restocks, seeded, injector: injector.report, replayed, violations, notes: [] };
  for (const check of [checkSagas, checkMoney, checkStock, checkMailboxes, checkOnce, checkNotices]) check(ctx);

  const health = await Promise.all(
    system.supervisor.processes().filter((p) => p.name !== 'redis').map(async (p) => [p.name, await fetch(`${p.url}/health`).then((r) => r.status).catch(() => 0)] as const),
  );
  checkRecovery(ctx, { stalls: watchdog.stalls, health, runStartedAt: started });
  checkFailover(ctx, commitReplicas);

  const appendfsync = String(((await monitor.configGet('appendfsync')) as Record<string, string>).appendfsync ?? '?');
  await observer.stop();
  await store.close();
  await monitor.quit().catch(() => monitor.destroy());

  for (const note of ctx.notes) console.log(`  ${note}`);
  for (const r of injector.report.skipped) console.log(`  skipped: ${r}`);
  const figures = figuresOf(options, ctx, observer.seen, { settledAfterHealMs, appendfsync, durationMs: Date.now() - started, commitReplicas });
  console.log(`\n${renderFigures(figures)}\n`);
  if (violations.length) {
    console.log(`${violations.length} violation(s):`);
    for (const v of violations) console.log(`  ✗ [${v.check}] ${v.message}`);
    console.log(`\nprocess output and the Redis AOF are kept in ${system.dir}`);
    console.log(`reproduce with: ${reproduce}`);
  } else console.log(`no violations (seed ${options.seed})`);
  exitCode = violations.length ? 1 : 0;
  await system.stop(options.keep || violations.length > 0);
  system = undefined;
  if (options.json) console.log(JSON.stringify(figures));
} catch (error) {
  console.error(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  console.error(`reproduce with: ${reproduce}`);
  if (system) {
    console.error(`process output kept in ${system.dir}`);
    await system.stop(true).catch(() => {});
  }
  if (options.json) console.log(JSON.stringify({ name: 'chaos', seed: options.seed, quick: options.quick, error: String(error), violations: violations.length + 1 }));
  exitCode = 1;
}
process.exit(exitCode);
