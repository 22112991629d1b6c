/**
 * The figures of a chaos run, worked out once from what the customers, the injector, the observer and the checks
 * recorded, then printed as a table (and, with `--json`, as the last line: `{"name":"chaos","seed":…}`).
 */
import { outcomes, type CheckContext } from './check-context.ts';
import type { Observations } from './observer.ts';
import type { ChaosOptions } from './options.ts';

export type Figures = {
  name: 'chaos';
  seed: number;
  quick: boolean;
  minutes: number;
  rate: number;
  replicas: number;
  orders: number;
  accepted: number;
  unanswered: number;
  confirmed: number;
  compensated: number;
  parked: number;
  mustFail: number;
  restocks: number;
  kills: number;
  killsByTarget: Record<string, number>;
  pauses: number;
  partitionsMovedDuringPauses: number;
  redisRestarts: number;
  redisRecoveryMs: number | null;
  /** `--cluster`: masters killed and failed over, the first failover's time, and how long orders placed meanwhile waited. */
  cluster: boolean;
  commitReplicas: number;
  failovers: number;
  failoverMs: number | null;
  ordersAgainMs: number | null;
  rejoinedMs: number | null;
  /** Actor records the failovers rolled back (see check-failover.ts: a violation only without commit replicas). */
  rolledBack: number;
  rules: Record<string, number>;
  injected: Record<string, number>;
  breakerOpened: number;
  leasesLost: number;
  deadLetters: number;
  deadLettersReplayed: number;
  maxRecoveryMs: number | null;
  medianRecoveryMs: number | null;
  unrecovered: number;
  settledAfterHealMs: number | null;
  appendfsync: string;
  durationMs: number;
  violations: number;
};

export function figuresOf(options: ChaosOptions, ctx: CheckContext, seen: Observations, extra: { settledAfterHealMs: number | undefined; appendfsync: string; durationMs: number; commitReplicas: number }): Figures {
  const { confirmed, compensated, parked } = outcomes(ctx.state);
  const kills = ctx.injector.kills;
  const recovered = kills.map((k) => k.recoveredMs).filter((ms): ms is number => ms !== undefined).sort((a, b) => a - b);
  const count = (keys: string[]) => keys.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
  const ruleKind = (r: (typeof ctx.injector.rules)[number]) => (r.rule.kind === 'redis' ? `redis ${r.rule.fault} (link)` : `${r.rule.kind}${r.rule.target.dependency ? ' (provider call)' : ' (message)'}`);
  const masterKills = ctx.injector.masterKills;
  const first = masterKills[0];
  // Taking orders again: every order placed between the kill and the failover had its 202 by then.
  const during = first?.failoverMs === undefined ? [] : ctx.orders.filter((o) => o.placedAt >= first.at && o.placedAt <= first.at + first.failoverMs!);
  const ordersAgainMs = during.length === 0 ? null : during.some((o) => o.acceptedAt === undefined) ? null : Math.max(...during.map((o) => o.acceptedAt! - first!.at));
  return {
    name: 'chaos',
    seed: options.seed,
    quick: options.quick,
    minutes: Math.round((options.chaosMs / 60_000) * 100) / 100,
    rate: options.rate,
    replicas: options.replicas,
    orders: ctx.orders.length,
    accepted: ctx.orders.filter((o) => o.outcome === 'accepted').length,
    unanswered: ctx.orders.filter((o) => o.outcome === 'unanswered').length,
    confirmed: confirmed.size,
    compensated: compensated.size,
    parked: parked.size,
    mustFail: ctx.orders.filter((o) => o.kind !== 'normal').length,
    restocks: ctx.restocks.length,
    kills: kills.length,
    killsByTarget: count(kills.map((k) => k.target)),
    pauses: ctx.injector.pauses.length,
    partitionsMovedDuringPauses: ctx.injector.pauses.reduce((s, p) => s + p.movedAway.length, 0),
    redisRestarts: ctx.injector.redisRestarts.length,
    redisRecoveryMs: ctx.injector.redisRestarts[0]?.recoveredMs ?? null,
    cluster: options.cluster,
    commitReplicas: extra.commitReplicas,
    failovers: masterKills.filter((k) => k.failoverMs !== undefined).length,
    failoverMs: first?.failoverMs ?? null,
    ordersAgainMs,
    rejoinedMs: first?.rejoinedMs ?? null,
    rolledBack: masterKills.reduce((n, k) => n + k.rolledBack.length, 0),
    rules: count(ctx.injector.rules.filter((r) => r.id).map(ruleKind)),
    injected: seen.injected,
    breakerOpened: seen.breakerOpened,
    leasesLost: seen.leasesLost,
    deadLetters: ctx.state.deadLetters.length + ctx.replayed.length,
    deadLettersReplayed: ctx.replayed.length,
    maxRecoveryMs: recovered.at(-1) ?? null,
    medianRecoveryMs: recovered.length ? recovered[Math.floor(recovered.length / 2)]! : null,
    unrecovered: kills.length - recovered.length,
    settledAfterHealMs: extra.settledAfterHealMs ?? null,
    appendfsync: extra.appendfsync,
    durationMs: extra.durationMs,
    violations: ctx.violations.length,
  };
}

const fmt = (record: Record<string, number>) =>
  Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '—';
const ms = (v: number | null) => (v === null ? '—' : `${(v / 1000).toFixed(1)} s`);

/** The table a person reads. */
export function renderFigures(f: Figures): string {
  const rows: [string, string][] = [
    ['seed', `${f.seed}${f.quick ? ' (--quick)' : ''}`],
    ['chaos phase', `${f.minutes} min at ${f.rate} orders/s, ${f.replicas} node(s) per actor service`],
    ['orders placed', String(f.orders)],
    ['  accepted (202)', `${f.accepted}${f.unanswered ? `, ${f.unanswered} never accepted` : ''}`],
    ['  confirmed', String(f.confirmed)],
    ['  compensated', `${f.compensated} (${f.mustFail} had to fail)`],
    ['  parked', String(f.parked)],
    ['restocks', String(f.restocks)],
    ['SIGKILLs', `${f.kills}: ${fmt(f.killsByTarget)}`],
    ['SIGSTOPs past the lease', `${f.pauses} (${f.partitionsMovedDuringPauses} partitions moved meanwhile)`],
    f.cluster
      ? ['Redis master SIGKILLs', `${f.failovers} failover(s) in ${ms(f.failoverMs)}; orders placed meanwhile all taken ${ms(f.ordersAgainMs)} after the kill; old master rejoined in ${ms(f.rejoinedMs)}; ${f.rolledBack} actor record(s) rolled back; commits wait for ${f.commitReplicas} replica(s)`]
      : ['Redis kill -9 + restart', `${f.redisRestarts}, everything back in ${ms(f.redisRecoveryMs)}`],
    ['chaos rules written', fmt(f.rules)],
    ['faults injected (seen)', fmt(f.injected)],
    ['breaker trips', String(f.breakerOpened)],
    ['leases lost (fenced)', String(f.leasesLost)],
    ['dead letters', `${f.deadLetters}${f.deadLettersReplayed ? ` (${f.deadLettersReplayed} from injected faults, replayed after healing)` : ''}`],
    ['recovery after a kill', `max ${ms(f.maxRecoveryMs)}, median ${ms(f.medianRecoveryMs)}${f.unrecovered ? `, ${f.unrecovered} not within 60 s` : ''}`],
    ['settled after healing', ms(f.settledAfterHealMs)],
    ['Redis appendfsync', f.appendfsync],
    ['run took', ms(f.durationMs)],
    ['violations', String(f.violations)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
