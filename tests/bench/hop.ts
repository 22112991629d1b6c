/**
 * `bun run bench hop [--json] [--asks 2000] [--rounds 5] [--fsync both|always|off] [--gap-ms 0]`: what one hop costs — a message
 * into an actor's mailbox, the turn, its commit and the answer back — as sequential asks to one counter on a node in
 * this process, on a private Redis: persistence off, and the AOF fsynced before every answer (`appendfsync always`,
 * the setting of the comparison with Restate). A saga is ~15 such hops in a row, so this is the floor of its latency
 * at a low rate, measured without the HTTP, the other services and the load generator that make `bench saga` noisy.
 * Prints, per setting, the medians of the rounds: p50 / p90 / p99 of an ask, asks a second, CPU per ask of the node
 * and of Redis, Redis's wake-ups per ask (its main thread's voluntary context switches: each an `epoll` sleep ended,
 * or, fsynced, a wait on the disk), and Redis calls per ask (scripts, reads, writes to the group). `--gap-ms N`: each ask waits N ms
 * after the last one's answer, so the node and Redis fall asleep between hops as they do at a low rate (a saga at
 * 50/s: each service's hops come ~20 ms apart); CPU per ask then includes what each process does at rest meanwhile
 * (`bun run bench idle`).
 */
import { RedisClient } from 'bun';
import { createNode, defineActor, reply } from '../../runtime/index.ts';
import { assign, setup } from 'xstate';
import { benchRedis, flag, median, numberFlag, percentile } from './_kit.ts';
import { processWakeUps } from './_shop.ts';

const json = process.argv.includes('--json');
const ASKS = numberFlag('asks', 2_000);
const ROUNDS = numberFlag('rounds', 5);
const GAP_MS = numberFlag('gap-ms', 0);
const which = flag('fsync', 'both');
if (!['both', 'always', 'off'].includes(which)) throw new Error(`--fsync must be both, always or off, got "${which}"`);
const settings = (which === 'both' ? ['off', 'always'] : [which]) as ('off' | 'always')[];

const counter = defineActor(
  'counter',
  setup({ types: {} as { context: { n: number }; events: { type: 'inc' } } }).createMachine({
    context: { n: 0 },
    on: { inc: { actions: [assign({ n: ({ context }) => context.n + 1 }), reply(({ context }) => context.n + 1)] } },
  }),
);

type Round = { p50: number; p90: number; p99: number; perSec: number; nodeCpuUs: number; redisCpuUs: number; redisWakeUps: number; calls: Record<string, number> };
const COUNTED = ['evalsha', 'xread', 'xrange', 'xreadgroup', 'xack', 'xgroup|setid'];

async function redisStats(client: RedisClient): Promise<{ cpuUs: number; wakeUps: number; calls: Record<string, number> }> {
  const cpu = String(await client.send('INFO', ['cpu']));
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const stats = String(await client.send('INFO', ['commandstats']));
  const calls: Record<string, number> = {};
  for (const cmd of COUNTED) calls[cmd] = Number(new RegExp(`cmdstat_${cmd.replace('|', '\\|')}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  const pid = Number(/process_id:(\d+)/.exec(String(await client.send('INFO', ['server'])))?.[1] ?? NaN);
  return { cpuUs: (user + sys) * 1e6, wakeUps: processWakeUps(pid), calls };
}

async function measure(fsync: 'off' | 'always'): Promise<Round[]> {
  const redis = await benchRedis({ fsync });
  const stats = new RedisClient(redis.url);
  await stats.connect();
  const node = await createNode({ service: 'hop', actors: [counter], keyPrefix: 'bench-hop', redis: redis.url, partitions: 1, onError: () => {} });
  try {
    for (let i = 0; i < 500; i++) await node.ask('hop/counter/a', { type: 'inc' });
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      Bun.gc(true);
      const lat = new Float64Array(ASKS);
      const before = await redisStats(stats);
      const cpu = process.cpuUsage();
      const began = performance.now();
      for (let i = 0; i < ASKS; i++) {
        if (GAP_MS > 0) await Bun.sleep(GAP_MS);
        const t = performance.now();
        await node.ask('hop/counter/a', { type: 'inc' });
        lat[i] = performance.now() - t;
      }
      const wall = performance.now() - began;
      const used = process.cpuUsage(cpu);
      const after = await redisStats(stats);
      lat.sort();
      const calls: Record<string, number> = {};
      // The stats calls themselves (two INFO) are not among the counted commands.
      for (const cmd of COUNTED) calls[cmd] = (after.calls[cmd]! - before.calls[cmd]!) / ASKS;
      rounds.push({
        p50: percentile(lat, 50),
        p90: percentile(lat, 90),
        p99: percentile(lat, 99),
        perSec: (ASKS / wall) * 1000,
        nodeCpuUs: (used.user + used.system) / ASKS,
        redisCpuUs: (after.cpuUs - before.cpuUs) / ASKS,
        redisWakeUps: (after.wakeUps - before.wakeUps) / ASKS,
        calls,
      });
    }
    return rounds;
  } finally {
    await node.stop();
    stats.close();
    await redis.stop();
  }
}

const results: Record<string, Round> = {};
for (const fsync of settings) {
  const rounds = await measure(fsync);
  const pick = (f: (r: Round) => number) => median(rounds.map(f));
  results[fsync] = {
    p50: pick((r) => r.p50),
    p90: pick((r) => r.p90),
    p99: pick((r) => r.p99),
    perSec: pick((r) => r.perSec),
    nodeCpuUs: pick((r) => r.nodeCpuUs),
    redisCpuUs: pick((r) => r.redisCpuUs),
    redisWakeUps: pick((r) => r.redisWakeUps),
    calls: Object.fromEntries(COUNTED.map((cmd) => [cmd, pick((r) => r.calls[cmd]!)])),
  };
}

const f = (n: number, digits = 2) => n.toFixed(digits).padStart(8);
console.log(`hop: ${ASKS} sequential asks to one counter${GAP_MS > 0 ? `, ${GAP_MS} ms apart,` : ''} × ${ROUNDS} rounds per setting, node in this process, private Redis; medians of the rounds`);
console.log(`setting              p50 ms  p90 ms  p99 ms   asks/s  node µs  redis µs  redis wakes   ${COUNTED.map((c) => c.padStart(8)).join(' ')}  (calls per ask)`);
for (const [fsync, r] of Object.entries(results)) {
  const name = fsync === 'always' ? 'AOF fsync always' : 'persistence off';
  console.log(`${name.padEnd(18)}${f(r.p50, 3)}${f(r.p90, 3)}${f(r.p99, 3)}${f(r.perSec, 0)}${f(r.nodeCpuUs, 0)}${f(r.redisCpuUs, 0)}${f(r.redisWakeUps, 2).padStart(13)}   ${COUNTED.map((c) => f(r.calls[c]!)).join(' ')}`);
}
console.log('an ask: its message appended to the mailbox, the turn, the commit (state, ack) and the answer, resolved in this process');
if (json) console.log(JSON.stringify({ name: 'hop', asks: ASKS, rounds: ROUNDS, gapMs: GAP_MS, settings: results }));
process.exit(0);
