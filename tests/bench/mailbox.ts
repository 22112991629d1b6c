/**
 * `bun run bench mailbox [--json] [--rounds 3] [--messages 50000] [--window 1000] [--alt-client bun|node-redis|none]
 * [--partitions 8] [--actors 1000] [--paced-only] [--profile DIR] [--mailroom-only]`: what a Mailroom mailbox moves end to end, next to the peer a user would pick and the ceiling of
 * the Redis loop under it.
 *
 * Every contender runs as two Bun processes on one Redis (a private redis-server, persistence off, unless
 * `REDIS_URL` is set): a consumer started first, and a producer that sends `--messages` increments round-robin to
 * `--actors` counters (1,000) with `--window` sends in flight (pipelined), or paced at 5,000 msg/s (open loop). Throughput is
 * messages over the time from the producer's first send to the consumer's last commit (a cross-process clock).
 *   mailroom   counter actors on 8 partitions, the runtime's default Redis client; latency = send → commit of the
 *              turn (the node's `message.received` inspection events); every counter's committed value is read
 *              back from Redis and must be exact
 *   bullmq     BullMQ 6, one job per increment, concurrency 50, the job does HINCRBY; counters checked the same way
 *   ceiling    bare XADD → XREADGROUP (COUNT 200) → batched XACK over 8 streams, no state, Bun's client
 * Diagnostic rows, not in the JSON: Mailroom with `--alt-client` as its hot-path client; "warm" p99 (messages
 * committed more than 1 s after the first commit: actors activated, code compiled); the bare loop paced at
 * 5,000 msg/s (what latency the machine allows right now: it is shared and noisy); and drains (the mailbox filled
 * first, the consumer started after: its own pace, without a producer competing for the two cores).
 * Full-speed contenders rotate their order each round; the table shows medians of the rounds.
 * `--cluster`: Mailroom alone (full speed, paced, drain) on a local Redis Cluster of 3 masters and 3 replicas
 * (persistence off) instead of one Redis; Redis CPU is the sum over the six nodes. The peers speak no cluster here.
 * `--actors N`: how many counters the increments go to round-robin; each is activated by its first message, so the
 * first second of a paced run carries N activations (N = 10 shows what the steady state gives without that burst).
 * `--profile DIR` adds one Mailroom full-speed run after the measured rounds whose consumer runs under
 * `bun --cpu-prof`, writes the profile to DIR and prints a summary.
 */
import { RedisClient } from 'bun';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { partitionOf } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { benchRedis, Child, deletePrefix, expectedCount, flag, median, numberFlag, preciseNow } from './_kit.ts';
import { benchCluster, deleteClusterPrefix, onCluster } from './_cluster.ts';
import { summarise } from './_profile-summary.ts';

const json = process.argv.includes('--json');
const ROUNDS = numberFlag('rounds', 3);
const MESSAGES = numberFlag('messages', 50_000);
const WINDOW = numberFlag('window', 1_000);
const ALT_CLIENT = flag('alt-client', 'node-redis');
if (!['bun', 'node-redis', 'none'].includes(ALT_CLIENT)) throw new Error(`--alt-client must be bun, node-redis or none, not "${ALT_CLIENT}"`);
const PROFILE_DIR = flag('profile');
/** Only Mailroom at full speed (what `--observe-cost` compares across modes). */
const MAILROOM_ONLY = process.argv.includes('--mailroom-only');
/** Only Mailroom paced at 5,000/s (what the latency goal reads). */
const PACED_ONLY = process.argv.includes('--paced-only');
const ACTORS = numberFlag('actors', 1_000);
/** Partitions of the counters' service, and streams of the bare loop (the same number, to compare like with like). */
const PARTITIONS = numberFlag('partitions', 8);
const PACED_RATE = 5_000;
const BULLMQ_CONCURRENCY = 50;
const CEILING_COUNT = 200;

type Kind = 'mailroom' | 'bullmq' | 'ceiling';
type RunOptions = { rate?: number; drain?: boolean; client?: string; bunFlags?: string[] };
type Run = { perSec: number; p50Ms: number; p99Ms: number; warmP99Ms: number; perCommit: number; consumerCpuUs: number; consumerStartCpuMs: number; producerCpuUs: number; redisCpuUs: number };
type ConsumerResult = {
  startedAt: number;
  lastAt: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  warmP99Ms?: number;
  batches?: number;
  cpuUsPerMsg: number;
  /** CPU the Mailroom consumer spent loading the tracing SDK before its count started (0 when tracing is off). */
  startCpuMs?: number;
};
type ProducerResult = { startedAt: number; cpuUsPerMsg: number };

const dir = import.meta.dir;
const children = new Set<Child>();
const CLUSTER = process.argv.includes('--cluster');
const cluster = CLUSTER ? await benchCluster() : undefined;
const redis = cluster ?? (await benchRedis());
/** The nodes whose CPU counts: the one Redis, or every node of the cluster. */
const cpuUrls = cluster ? cluster.nodeUrls : [redis.url];
const onSignal = () => {
  for (const c of children) c.kill();
  void redis.stop().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const spawn = (name: string, script: string, args: string[], bunFlags: string[] = []): Child => {
  const child = new Child(name, ['bun', ...bunFlags, join(dir, script), ...args]);
  children.add(child);
  void child.proc.exited.then(() => children.delete(child));
  return child;
};

const consumerOf: Record<Kind, string> = { mailroom: '_mailbox-consumer.ts', bullmq: '_bullmq-worker.ts', ceiling: '_ceiling-consumer.ts' };
const targetOf: Record<Kind, string> = { mailroom: 'mailroom', bullmq: 'bullmq', ceiling: 'stream' };
let runs = 0;

/** One run of a contender: consumer and producer processes, then the check of the committed counters. */
async function run(kind: Kind, opts: RunOptions = {}): Promise<Run> {
  const prefix = `bench-mailbox-${process.pid}-${runs++}`;
  const common = ['--redis', redis.url, '--prefix', prefix, '--messages', String(MESSAGES), '--partitions', String(PARTITIONS), '--streams', String(PARTITIONS)];
  const consumerArgs = [...common, '--count', String(CEILING_COUNT), '--concurrency', String(BULLMQ_CONCURRENCY)];
  const producerArgs = [...common, '--target', targetOf[kind], '--actors', String(ACTORS), '--window', String(WINDOW)];
  if (opts.rate) producerArgs.push('--rate', String(opts.rate));
  if (opts.client) {
    consumerArgs.push('--client', opts.client);
    producerArgs.push('--client', opts.client);
  }
  let consumer: Child | undefined;
  let producer: Child | undefined;
  try {
    const redisCpuBefore = await redisCpu();
    let sent: ProducerResult;
    if (opts.drain) {
      // Fill the mailboxes first; the consumer's group starts at id 0, so it then drains them alone. A send to a
      // service no node ever registered is refused, so the service is registered as its first node would.
      if (kind === 'mailroom') await registerBench(prefix);
      producer = spawn(`${kind} producer`, '_mailbox-producer.ts', producerArgs);
      sent = await producer.next<ProducerResult>('result', 300_000);
      await producer.done();
      consumer = spawn(`${kind} consumer`, consumerOf[kind], consumerArgs, opts.bunFlags);
      await consumer.next('ready', 60_000);
    } else {
      consumer = spawn(`${kind} consumer`, consumerOf[kind], consumerArgs, opts.bunFlags);
      await consumer.next('ready', 60_000);
      producer = spawn(`${kind} producer`, '_mailbox-producer.ts', producerArgs);
      sent = await producer.next<ProducerResult>('result', 300_000);
    }
    const result = await consumer.next<ConsumerResult>('result', 300_000);
    const redisCpuUs = ((await redisCpu()) - redisCpuBefore) / MESSAGES;
    await consumer.done(30_000);
    await producer.done();
    if (result.received !== MESSAGES) throw new Error(`${kind}: the consumer saw ${result.received} messages, ${MESSAGES} were sent`);
    if (kind !== 'ceiling') await verifyCounters(kind, prefix);
    // A drain is timed from the consumer's own start (process up, connections not yet open).
    const from = opts.drain ? result.startedAt : sent.startedAt;
    return {
      perSec: MESSAGES / ((result.lastAt - from) / 1000),
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      warmP99Ms: result.warmP99Ms ?? NaN,
      perCommit: result.batches ? MESSAGES / result.batches : NaN,
      consumerCpuUs: result.cpuUsPerMsg,
      consumerStartCpuMs: result.startCpuMs ?? NaN,
      producerCpuUs: sent.cpuUsPerMsg,
      redisCpuUs,
    };
  } finally {
    consumer?.kill();
    producer?.kill();
    await (cluster ? deleteClusterPrefix(cluster, prefix) : deletePrefix(redis.url, prefix));
  }
}

/** CPU time (µs) the Redis server has used so far (all of it ours, on the private server). */
async function redisCpu(): Promise<number> {
  let total = 0;
  for (const url of cpuUrls) {
    const client = new RedisClient(url);
    await client.connect();
    try {
      const info = String(await client.send('INFO', ['cpu']));
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
      total += (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
    } finally {
      client.close();
    }
  }
  return total;
}

/** Every counter's committed value must be exactly the number of increments sent to it. */
/** Records the bench service's partition count, as `createNode` does for a service's first node. */
async function registerBench(prefix: string): Promise<void> {
  if (cluster) {
    const g = globalKeys(prefix);
    await onCluster(cluster, [['HSETNX', g.service('bench'), 'partitions', String(PARTITIONS)], ['SADD', g.services, 'bench']]);
    return;
  }
  const client = new RedisClient(redis.url);
  await client.connect();
  try {
    const g = globalKeys(prefix);
    await client.send('HSETNX', [g.service('bench'), 'partitions', String(PARTITIONS)]);
    await client.send('SADD', [g.services, 'bench']);
  } finally {
    client.close();
  }
}

async function verifyCounters(kind: Kind, prefix: string): Promise<void> {
  const client = new RedisClient(cluster ? cluster.nodeUrls[0]! : redis.url);
  await client.connect();
  try {
    const commands = Array.from({ length: ACTORS }, (_, a) =>
      kind === 'mailroom'
        ? ['HGET', partitionKeys(prefix, 'bench', partitionOf(`bench/counter/${a}`, PARTITIONS)).actor('counter', String(a)), 's']
        : ['HGET', `${prefix}:bullmq:counters`, String(a)],
    );
    const raw = (cluster ? await onCluster(cluster, commands) : await Promise.all(commands.map(([cmd, ...args]) => client.send(cmd!, args)))) as (string | null)[];
    const values = raw.map((v) => {
      if (v === null) return 0;
      return kind === 'mailroom' ? Number((JSON.parse(v) as { s: { context: { n: number } } }).s.context.n) : Number(v);
    });
    const wrong = values.map((n, a) => [a, n, expectedCount(a, MESSAGES, ACTORS)] as const).filter(([, n, want]) => n !== want);
    if (wrong.length) {
      const sample = wrong.slice(0, 5).map(([a, n, want]) => `counter ${a} = ${n}, expected ${want}`);
      throw new Error(`${kind}: ${wrong.length} of ${ACTORS} counters are wrong after the run (${sample.join('; ')})`);
    }
  } finally {
    client.close();
  }
}

const format = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number): string => (!Number.isFinite(n) ? '–' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

const PACED = `mailroom @ ${format(PACED_RATE)}/s`;
const ALT = `mailroom, ${ALT_CLIENT} client`;
const ALT_PACED = `${ALT} @ ${format(PACED_RATE)}/s`;
const CEILING_PACED = `ceiling @ ${format(PACED_RATE)}/s`;
const samples = new Map<string, Run[]>();
const record = (key: string, r: Run) => {
  samples.set(key, [...(samples.get(key) ?? []), r]);
  console.log(
    `  ${key.padEnd(32)} ${format(r.perSec).padStart(9)} msg/s   p50 ${ms(r.p50Ms).padStart(6)} ms   p99 ${ms(r.p99Ms).padStart(6)} ms` +
      (Number.isFinite(r.warmP99Ms) ? `   warm p99 ${ms(r.warmP99Ms).padStart(6)} ms` : '') +
      (Number.isFinite(r.perCommit) ? `   ${r.perCommit.toFixed(1)} msg/commit` : '') +
      `   CPU/msg: consumer ${r.consumerCpuUs.toFixed(1)} µs, producer ${r.producerCpuUs.toFixed(1)} µs, redis ${r.redisCpuUs.toFixed(1)} µs`,
  );
};

const loadBefore = loadavg()[0]!;
const began = Date.now();
console.log(
  `mailbox: ${format(MESSAGES)} increments to ${format(ACTORS)} counters, ${WINDOW} sends in flight, ${ROUNDS} rounds, ` +
    `Redis ${redis.url}${cluster ? ' (local cluster: 3 masters, 3 replicas, persistence off)' : process.env.REDIS_URL ? ' (REDIS_URL)' : ' (private, persistence off)'}, load average ${loadBefore.toFixed(2)}` +
    (process.env.MAILROOM_REDIS_CLIENT ? `, MAILROOM_REDIS_CLIENT=${process.env.MAILROOM_REDIS_CLIENT}` : ''),
);
let profileSummary = '';
try {
  const fullSpeed: Kind[] = cluster ? ['mailroom'] : ['ceiling', 'mailroom', 'bullmq'];
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1} of ${ROUNDS}`);
    if (MAILROOM_ONLY) {
      record('mailroom', await run('mailroom'));
      continue;
    }
    if (PACED_ONLY) {
      record(PACED, await run('mailroom', { rate: PACED_RATE }));
      continue;
    }
    for (let i = 0; i < fullSpeed.length; i++) {
      const kind = fullSpeed[(i + round) % fullSpeed.length]!;
      record(kind, await run(kind));
    }
    record(PACED, await run('mailroom', { rate: PACED_RATE }));
    if (cluster) {
      record('mailroom drain', await run('mailroom', { drain: true }));
      continue;
    }
    if (ALT_CLIENT !== 'none') {
      record(ALT, await run('mailroom', { client: ALT_CLIENT }));
      record(ALT_PACED, await run('mailroom', { client: ALT_CLIENT, rate: PACED_RATE }));
    }
    record(CEILING_PACED, await run('ceiling', { rate: PACED_RATE }));
    record('mailroom drain', await run('mailroom', { drain: true }));
    record('ceiling drain', await run('ceiling', { drain: true }));
  }
  if (PROFILE_DIR) {
    console.log(`profiling one more Mailroom ${PACED_ONLY ? 'paced' : 'full-speed'} run (consumer under bun --cpu-prof, written to ${PROFILE_DIR})`);
    const before = new Set(safeList(PROFILE_DIR));
    record('mailroom (profiled)', await run('mailroom', { rate: PACED_ONLY ? PACED_RATE : undefined, bunFlags: ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-interval=250`, `--cpu-prof-dir=${PROFILE_DIR}`] }));
    const file = safeList(PROFILE_DIR).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
    profileSummary = file ? `profile ${join(PROFILE_DIR, file)}\n${summarise(JSON.parse(readFileSync(join(PROFILE_DIR, file), 'utf8')))}` : 'no profile was written';
  }
} finally {
  for (const c of children) c.kill();
  await redis.stop();
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

const med = (key: string, field: keyof Run): number => {
  const runsOf = samples.get(key);
  return runsOf ? median(runsOf.map((r) => r[field])) : NaN;
};
const mailroom = { perSec: med('mailroom', 'perSec'), p50Ms: med('mailroom', 'p50Ms'), p99Ms: med('mailroom', 'p99Ms'), p99MsAt5k: med(PACED, 'p99Ms') };
const bullmq = { perSec: med('bullmq', 'perSec') };
const ceiling = { perSec: med('ceiling', 'perSec') };
const ratios = { vsBullmq: mailroom.perSec / bullmq.perSec, ofCeiling: mailroom.perSec / ceiling.perSec };

type Row = [
  contender: string,
  perSec: string,
  p50: string,
  p99: string,
  warmP99: string,
  perCommit: string,
  consumerCpu: string,
  producerCpu: string,
  redisCpu: string,
  what: string,
];
const row = (label: string, key: string, what: string): Row => [
  label,
  format(med(key, 'perSec')),
  ms(med(key, 'p50Ms')),
  ms(med(key, 'p99Ms')),
  ms(med(key, 'warmP99Ms')),
  Number.isFinite(med(key, 'perCommit')) ? med(key, 'perCommit').toFixed(1) : '–',
  med(key, 'consumerCpuUs').toFixed(1),
  med(key, 'producerCpuUs').toFixed(1),
  med(key, 'redisCpuUs').toFixed(1),
  what,
];
const rows: Row[] = [
  row('mailroom (full speed)', 'mailroom', "send → committed turn, runtime's default client; counters verified"),
  row(`mailroom (paced ${format(PACED_RATE)}/s)`, PACED, 'the same, open-loop arrivals'),
  row(`bullmq 6 (concurrency ${BULLMQ_CONCURRENCY})`, 'bullmq', 'add → completed, HINCRBY per job; counters verified'),
  row('ceiling (bare stream loop)', 'ceiling', `XADD → XREADGROUP COUNT ${CEILING_COUNT} → XACK, ${PARTITIONS} streams, no state`),
];
if (ALT_CLIENT !== 'none') {
  rows.push(row(`diag: mailroom, ${ALT_CLIENT} client`, ALT, `client: '${ALT_CLIENT}' in producer and consumer nodes`));
  rows.push(row(`diag: mailroom, ${ALT_CLIENT}, ${format(PACED_RATE)}/s`, ALT_PACED, 'the same, paced'));
}
rows.push(row(`diag: ceiling, ${format(PACED_RATE)}/s`, CEILING_PACED, "the bare loop's latency on this machine now"));
rows.push(row('diag: mailroom drain', 'mailroom drain', 'consumer alone on a filled mailbox (latency = time queued)'));
rows.push(row('diag: ceiling drain', 'ceiling drain', 'consumer alone on filled streams'));
const header: Row = ['contender', 'msg/s', 'p50 ms', 'p99 ms', 'warm p99', 'msg/commit', 'cons µs/msg', 'prod µs/msg', 'redis µs/msg', 'what'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 9 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('');
console.log(`medians of ${ROUNDS} rounds (${((Date.now() - began) / 1000).toFixed(0)} s; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)})`);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(
  `µs/msg: CPU time per message of the consumer process, the producer process and the Redis server${process.env.REDIS_URL ? ' (shared: includes its other load)' : ''}; steadier than rates on a shared machine. ` +
    `The Mailroom consumer's count leaves out the tracing SDK's one-time load (${med('mailroom', 'consumerStartCpuMs').toFixed(1)} ms of CPU in this run; 0 without tracing)`,
);
const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(
  `mailroom vs bullmq ${ratios.vsBullmq.toFixed(2)}× (goal ≥ 5: ${goal(ratios.vsBullmq >= 5)}); of ceiling ${ratios.ofCeiling.toFixed(2)} ` +
    `(goal ≥ 0.5: ${goal(ratios.ofCeiling >= 0.5)}); p99 at ${format(PACED_RATE)}/s ${ms(mailroom.p99MsAt5k)} ms (goal ≤ 5 ms: ${goal(mailroom.p99MsAt5k <= 5)})`,
);
if (profileSummary) console.log(`\n${profileSummary}`);

if (json) {
  const r2 = (n: number) => Math.round(n * 100) / 100;
  console.log(
    JSON.stringify({
      name: 'mailbox',
      mailroom: { perSec: Math.round(mailroom.perSec), consumerCpuUs: r2(med('mailroom', 'consumerCpuUs')), consumerStartCpuMs: r2(med('mailroom', 'consumerStartCpuMs')), p50Ms: r2(mailroom.p50Ms), p99Ms: r2(mailroom.p99Ms), p99MsAt5k: r2(mailroom.p99MsAt5k) },
      bullmq: { perSec: Math.round(bullmq.perSec) },
      ceiling: { perSec: Math.round(ceiling.perSec) },
      ratios: { vsBullmq: r2(ratios.vsBullmq), ofCeiling: r2(ratios.ofCeiling) },
    }),
  );
}
process.exit(0);
