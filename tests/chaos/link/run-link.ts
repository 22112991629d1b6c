/**
 * `bun run chaos --link`: the runtime against a faulty connection to Redis. Runs seeds one after the other (see
 * schedule.ts), prints a row per seed and a summary of the faults injected and the violations found, each with the
 * seed that reproduces it; with `--json` the last line is JSON. Resolves to the exit code: 1 on any violation.
 */
import { LINK_FAULT_KINDS, type LinkFaultKind } from '../../../runtime/redis/index.ts';
import type { ChaosOptions } from '../options.ts';
import type { LinkViolation } from './checks.ts';
import { runSchedule, type ScheduleResult } from './schedule.ts';

export type LinkFigures = {
  name: 'chaos-link';
  schedules: number;
  seeds: number[];
  chaosMs: number;
  faults: Record<LinkFaultKind, number>;
  steals: number;
  leasesLost: number;
  sent: { adds: number; asks: number; arms: number; pays: number };
  events: number;
  effectReruns: number;
  unsettled: number;
  durationMs: number;
  violations: { count: number; byCheck: Record<string, number>; list: LinkViolation[] };
};

const pad = (s: string | number, n: number) => String(s).padStart(n);

export function renderRow(r: ScheduleResult): string {
  const f = r.faults;
  const settled = r.settledMs === null ? 'never' : `${(r.settledMs / 1000).toFixed(1)} s`;
  const checks = [...new Set(r.violations.map((v) => v.check))].join(',') || 'ok';
  return [
    pad(r.seed, 10),
    pad(r.focus, 6),
    pad(r.nodes, 5),
    pad(`${(r.durationMs / 1000).toFixed(1)} s`, 7),
    pad(r.sent.adds, 5),
    pad(r.sent.asks, 5),
    pad(r.sent.arms, 5),
    pad(r.sent.pays, 5),
    pad(`${f.fail}/${f['drop-reply']}/${f.reset}/${f.latency}/${f.stall}`, 20),
    pad(`${r.steals}/${r.leasesLost}`, 8),
    pad(settled, 7),
    `  ${checks}`,
  ].join(' ');
}

export const HEADER = [
  pad('seed', 10),
  pad('focus', 6),
  pad('nodes', 5),
  pad('time', 7),
  pad('adds', 5),
  pad('asks', 5),
  pad('arms', 5),
  pad('pays', 5),
  pad('fail/drop/rst/lat/st', 20),
  pad('stl/lost', 8),
  pad('settled', 7),
  '  checks',
].join(' ');

export function figuresOfLink(results: ScheduleResult[], chaosMs: number, durationMs: number): LinkFigures {
  const list = results.flatMap((r) => r.violations);
  const byCheck: Record<string, number> = {};
  for (const v of list) byCheck[v.check] = (byCheck[v.check] ?? 0) + 1;
  const sum = (f: (r: ScheduleResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    name: 'chaos-link',
    schedules: results.length,
    seeds: results.map((r) => r.seed),
    chaosMs,
    faults: Object.fromEntries(LINK_FAULT_KINDS.map((k) => [k, sum((r) => r.faults[k])])) as Record<LinkFaultKind, number>,
    steals: sum((r) => r.steals),
    leasesLost: sum((r) => r.leasesLost),
    sent: { adds: sum((r) => r.sent.adds), asks: sum((r) => r.sent.asks), arms: sum((r) => r.sent.arms), pays: sum((r) => r.sent.pays) },
    events: sum((r) => r.events.distinct),
    effectReruns: sum((r) => r.effectReruns),
    unsettled: results.filter((r) => r.settledMs === null).length,
    durationMs,
    violations: { count: list.length, byCheck, list },
  };
}

/** Runs the seeds of `options` and prints the report; resolves to the exit code. */
export async function runLinkChaos(options: ChaosOptions, redis: string): Promise<number> {
  const started = Date.now();
  const seeds = [...Array(options.seeds).keys()].map((i) => options.seed + i);
  console.log(`chaos --link: ${seeds.length} seed(s) from ${seeds[0]}, ${options.linkMs / 1000} s of faults each, Redis ${redis}`);
  console.log(HEADER);
  const results: ScheduleResult[] = [];
  for (const seed of seeds) {
    const result = await runSchedule({ seed, redis, chaosMs: options.linkMs, settleMs: options.linkSettleMs });
    results.push(result);
    console.log(renderRow(result));
    for (const v of result.violations) console.log(`${' '.repeat(12)}✗ [${v.check}] ${v.detail}`);
    if (result.violations.length && Object.keys(result.nodeErrors).length) {
      console.log(`${' '.repeat(12)}node errors: ${Object.entries(result.nodeErrors).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([w, n]) => `${n}× ${w}`).join('; ')}`);
    }
  }
  const figures = figuresOfLink(results, options.linkMs, Date.now() - started);
  const f = figures.faults;
  console.log(`\nfaults injected: ${f.fail} failed before sending, ${f['drop-reply']} replies dropped, ${f.reset} resets, ${f.latency} latencies, ${f.stall} stalls; ${figures.steals} leases stolen (${figures.leasesLost} losses seen by the nodes)`);
  console.log(`load: ${figures.sent.adds} adds, ${figures.sent.asks} asks, ${figures.sent.arms} arms, ${figures.sent.pays} pays; ${figures.events} events; ${figures.effectReruns} effects ran more than once (allowed)`);
  if (figures.violations.count) {
    const failing = [...new Set(figures.violations.list.map((v) => v.seed))];
    console.log(`\n${figures.violations.count} violation(s) in ${failing.length} of ${results.length} seed(s): ${Object.entries(figures.violations.byCheck).map(([c, n]) => `${n}× ${c}`).join(', ')}`);
    console.log(`reproduce with: ${failing.slice(0, 5).map((s) => `bun run chaos --link --seed ${s}`).join(' · ')}`);
  } else console.log(`\nno violations (${results.length} seed(s) from ${seeds[0]})`);
  if (options.json) console.log(JSON.stringify(figures));
  return figures.violations.count ? 1 : 0;
}
