/**
 * `bun run bench breaker [--json] [--calls N] [--shared-calls N]`: calls per second through a closed circuit breaker
 * on an async no-op, Mailroom's breaker side by side with opossum and cockatiel on the same function, plus the
 * unwrapped call; then the cost per call of a shared breaker (state in Redis at `REDIS_URL`, default
 * 127.0.0.1:6379) next to the same breaker kept local (`_shared-breaker.ts`). Each
 * contender runs a warm-up, then 3 measured rounds (contenders interleaved, so drift in a noisy machine hits all of
 * them alike); the table shows medians.
 *
 * Every library is measured in its leanest closed-breaker configuration, so the ratios are conservative: opossum
 * without its per-call timeout timer (Mailroom's breaker has none either; timeouts are a separate policy) and
 * cockatiel with whichever of its breakers (consecutive / sampling) is faster in this run. The other configurations
 * are printed for reference.
 */

import { circuitBreaker as cockatielBreaker, ConsecutiveBreaker, handleAll, SamplingBreaker } from 'cockatiel';
import Opossum from 'opossum';
import { createCircuitBreaker } from '../../runtime/resilience/index.ts';
import { benchShared } from './_shared-breaker.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const callsArg = args.indexOf('--calls');
const CALLS = callsArg >= 0 ? Number(args[callsArg + 1]) : 1_000_000;
const ROUNDS = 3;
const sharedArg = args.indexOf('--shared-calls');
const SHARED_CALLS = sharedArg >= 0 ? Number(args[sharedArg + 1]) : 100_000;

// The one function every contender wraps.
const noop = async (): Promise<number> => 1;

type Contender = { name: string; headline?: 'mailroom' | 'opossum' | 'cockatiel' | 'bare'; call: () => Promise<unknown> };

const mailroom = createCircuitBreaker({ name: 'bench' });
const mailroomCount = createCircuitBreaker({ name: 'bench-count', window: { kind: 'count', size: 100 } });
const opossumLean = new Opossum(noop, { timeout: false });
const opossumDefault = new Opossum(noop);
const cockatielConsecutive = cockatielBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });
const cockatielSampling = cockatielBreaker(handleAll, {
  halfOpenAfter: 30_000,
  breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
});

const contenders: Contender[] = [
  { name: 'bare (unwrapped call)', headline: 'bare', call: () => noop() },
  { name: 'mailroom (time window 10 s)', headline: 'mailroom', call: () => mailroom.execute(noop) },
  { name: 'mailroom (count window 100)', call: () => mailroomCount.execute(noop) },
  { name: 'opossum 10 (timeout: false)', call: () => opossumLean.fire() },
  { name: 'opossum 10 (defaults, 10 s timeout)', call: () => opossumDefault.fire() },
  { name: 'cockatiel 4 (ConsecutiveBreaker)', call: () => cockatielConsecutive.execute(noop) },
  { name: 'cockatiel 4 (SamplingBreaker 10 s)', call: () => cockatielSampling.execute(noop) },
];

async function run(contender: Contender, calls: number): Promise<number> {
  const call = contender.call;
  const started = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return calls / ((performance.now() - started) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const contender of contenders) await run(contender, Math.min(CALLS, 200_000));
const samples = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order every round so no contender always runs right after another's garbage.
  for (let i = 0; i < contenders.length; i++) {
    const contender = contenders[(i + round) % contenders.length]!;
    Bun.gc(true);
    samples.get(contender)!.push(await run(contender, CALLS));
  }
}

const perSec = new Map(contenders.map((c) => [c, median(samples.get(c)!)]));
const best = (prefix: string): number => Math.max(...contenders.filter((c) => c.name.startsWith(prefix)).map((c) => perSec.get(c)!));
const mailroomPerSec = perSec.get(contenders[1]!)!;
const opossumPerSec = best('opossum');
const cockatielPerSec = best('cockatiel');
const barePerSec = perSec.get(contenders[0]!)!;

const format = (n: number): string => Math.round(n).toLocaleString('en-US');
const rows = contenders.map((c) => {
  const rate = perSec.get(c)!;
  return [c.name, format(rate), `${(1e6 / rate).toFixed(3)} µs`, (mailroomPerSec / rate).toFixed(2)];
});
const header = ['contender', 'calls/s (median)', 'per call', 'mailroom ×'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
console.log(`closed breaker, async no-op, ${format(CALLS)} sequential awaited calls per round, median of ${ROUNDS} rounds`);
console.log(line(header));
for (const row of rows) console.log(line(row));
const vsOpossum = mailroomPerSec / opossumPerSec;
const vsCockatiel = mailroomPerSec / cockatielPerSec;
console.log(
  `mailroom vs fastest opossum: ${vsOpossum.toFixed(2)}×, vs fastest cockatiel: ${vsCockatiel.toFixed(2)}×, ` +
    `mailroom overhead over the bare call: ${(1e6 / mailroomPerSec - 1e6 / barePerSec).toFixed(3)} µs`,
);
if (mailroom.state !== 'closed') throw new Error(`the breaker left closed during the benchmark: ${mailroom.stats().reason}`);
mailroom.dispose();
mailroomCount.dispose();

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const shared = await benchShared(redisUrl, SHARED_CALLS, ROUNDS);
console.log(`\nshared vs local breaker, async no-op, ${format(SHARED_CALLS)} sequential awaited calls per round, median of ${ROUNDS} rounds (Redis ${redisUrl})`);
if (typeof shared === 'string') console.log(shared);
else {
  const sharedRows = shared.map((f) => [f.window, `${f.localUs.toFixed(3)} µs`, `${f.sharedUs.toFixed(3)} µs`, `${f.ratio.toFixed(1)}×`]);
  const sharedHeader = ['window', 'local µs/call', 'shared µs/call', 'shared ×'];
  const w = sharedHeader.map((h, i) => Math.max(h.length, ...sharedRows.map((r) => r[i]!.length)));
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(w[i]!) : cell.padStart(w[i]!))).join('  ');
  console.log(row(sharedHeader));
  for (const r of sharedRows) console.log(row(r));
}

if (json) {
  const round2 = (n: number): number => Math.round(n * 100) / 100;
  console.log(
    JSON.stringify({
      name: 'breaker',
      mailroom: { perSec: Math.round(mailroomPerSec) },
      opossum: { perSec: Math.round(opossumPerSec) },
      cockatiel: { perSec: Math.round(cockatielPerSec) },
      bare: { perSec: Math.round(barePerSec) },
      ratios: { vsOpossum: round2(vsOpossum), vsCockatiel: round2(vsCockatiel) },
      shared: typeof shared === 'string' ? null : shared.map((f) => ({ window: f.window, localUs: round2(f.localUs), sharedUs: round2(f.sharedUs), ratio: round2(f.ratio) })),
    }),
  );
}
process.exit(0);
