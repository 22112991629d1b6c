/**
 * `bun run bench script-args [--json] [--rounds 5] [--calls 2000]`: what Redis charges a Lua script for the bytes it
 * is handed, apart from what the script does — the cost under every commit (`commit-turn-12.lua` gets the batch as
 * one JSON argument, large records as arguments of their own; a saga's commit carries ~11.6 KB: docs/benchmarks.md).
 *
 * On a private redis-server (persistence off; `REDIS_URL` to use another: its keys under `bench:script-args:<pid>:`
 * are written and deleted, and its counters read, never reset):
 *   call       EVALSHA of `return 1` with one argument of N bytes, next to SET of the same N bytes (the same bytes
 *              parsed off the socket, no script)
 *   decode     EVALSHA of `cjson.decode(ARGV[1])` on a JSON list of N bytes shaped like a commit's (strings of JSON
 *              inside JSON, escaped), minus the call alone
 *   own        20 JSON payloads of 30–1,700 characters, and 190 of 60 (a mailbox commit's counters), inside the batch's
 *              JSON against each an argument of its own that the batch names by number (as `commitBatch` sends records
 *              over `LARGE_RECORD`): the script decodes the batch and reads each payload. The two alternate in each
 *              round; besides the command's time, Redis's main-thread CPU per call (which counts reading and splitting
 *              the request, outside the command) and the client's wall time per call
 *   commit     the commit script itself (`commit-turn-12.lua`) on a one-turn saga-shaped batch built by the runtime's
 *              own encoder (`Batch`): a saga's and an order's record (~1.7 KB and ~0.5 KB) with their history heads, two
 *              events, two messages to a mailbox, a timer, two processed ids (its acks name no pending entry) — ~4,100
 *              characters of arguments, a third of a saga commit's average; its records as arguments of their own (the
 *              runtime's rule) or inside the batch's JSON. The commits go to 300 sagas' actors in turn, each at its next
 *              version, after 21 untimed commits each so that every history list is already at its length of 20
 * Redis's own time per command (`INFO commandstats`, µs per call: the time inside the command), medians of the rounds,
 * and ns per further byte.
 */
import { RedisClient } from 'bun';
import type { HostedActor } from '../../runtime/actor/hosted-actor.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { Batch, type ActorWrite } from '../../runtime/node/batch.ts';
import { FIRST_RECORD_ARG, LARGE_RECORD } from '../../runtime/node/batch-commit.ts';
import { entryFields } from '../../runtime/node/envelope.ts';
import { scripts } from '../../runtime/redis/script.ts';
import { benchRedis, deletePrefix, median, numberFlag } from './_kit.ts';

const json = process.argv.includes('--json');
const ROUNDS = numberFlag('rounds', 5);
const CALLS = numberFlag('calls', 2_000);
const SIZES = [100, 1_000, 4_000, 12_000, 30_000];
const PREFIX = `bench:script-args:${process.pid}`;

const redis = await benchRedis();
const client = new RedisClient(redis.url);
await client.connect();

/** Redis's count of calls and µs spent in one command so far, and its main thread's CPU µs. */
async function stat(command: string): Promise<{ calls: number; usec: number; cpu: number }> {
  const info = String(await client.send('INFO', ['commandstats']));
  const line = info.split('\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  const field = (name: string) => Number(line?.match(new RegExp(`${name}=(\\d+)`))?.[1] ?? 0);
  const cpuInfo = String(await client.send('INFO', ['cpu']));
  const seconds = (name: string) => Number(cpuInfo.match(new RegExp(`${name}:([\\d.]+)`))?.[1] ?? 0);
  return { calls: field('calls'), usec: field('usec'), cpu: 1e6 * (seconds('used_cpu_user_main_thread') + seconds('used_cpu_sys_main_thread')) };
}

type Cost = { us: number; cpu: number; wall: number };
/** Over CALLS pipelined calls of `command` made by `send`: Redis's µs in the command, its main thread's CPU µs and the client's wall µs, per call. */
async function costPerCall(command: string, send: () => Promise<unknown>): Promise<Cost> {
  const before = await stat(command);
  const t = Bun.nanoseconds();
  await Promise.all(Array.from({ length: CALLS }, send));
  const wall = (Bun.nanoseconds() - t) / 1000 / CALLS;
  const after = await stat(command);
  const calls = after.calls - before.calls;
  return { us: (after.usec - before.usec) / calls, cpu: (after.cpu - before.cpu) / calls, wall };
}
const usPerCall = async (command: string, send: () => Promise<unknown>) => (await costPerCall(command, send)).us;

/** A JSON list of about `bytes` bytes shaped like a commit's: domain events, each a JSON string inside the list. */
function commitLike(bytes: number): string {
  const events: string[] = [];
  for (let i = 0; JSON.stringify(events).length < bytes; i++) {
    events.push(JSON.stringify({ id: crypto.randomUUID(), type: 'StockHeld', data: { sku: `SKU-${i}`, orderId: `ord-${crypto.randomUUID()}`, qty: i % 3 }, at: Date.now() }));
  }
  return JSON.stringify(events);
}

/** `count` JSON payloads of at least `size` characters, made of short fields as a record or an event is. */
function payloads(size: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const value: Record<string, unknown> = { type: 'inc', n: i };
    for (let j = 0; JSON.stringify(value).length < size; j++) value[`k${j}`] = `v${j}`;
    return JSON.stringify(value);
  });
}

/** A record of about `bytes` bytes, shaped like a saga's (its state, context and log). */
function recordOf(bytes: number, n: number): string {
  const log: unknown[] = [];
  const record = () => JSON.stringify({ s: { value: 'charging', context: { orderId: `ord-${n}`, total: 4_200, log } }, t: {}, f: {} });
  while (record().length < bytes) log.push({ step: 'reserveInventory', at: 1_764_900_000_000 + log.length, ok: true, note: 'reserved SKU-1 × 2' });
  return record();
}

/** Where a commit's records go: those over `LARGE_RECORD` as arguments of their own (the runtime's rule), or all `inside` the batch's JSON. */
type Placement = 'records' | 'inside';
const PLACEMENTS: Placement[] = ['records', 'inside'];
const SAGAS = 300;
const keys = partitionKeys(PREFIX, 'svc', 0);
const mailbox = `${keys.mbox}:to`;
let commits = 0;
/** Each saga's version so far (its saga and order actors commit together): the commits cycle through `SAGAS` sagas. */
const versions = new Map<number, number>();

/** One saga-shaped commit's EVALSHA arguments, its records placed as `placement` says. */
function sagaCommit(sha: string, placement: Placement): string[] {
  const n = commits++ % SAGAS;
  const version = versions.get(n) ?? 0;
  versions.set(n, version + 1);
  const [saga, order] = [`saga-${n}`, `order-${n}`];
  const at = 1_764_900_000_000 + n;
  const message = (to: string, event: object) => ({ mbox: mailbox, fields: entryFields({ id: Bun.randomUUIDv7(), address: to, event, from: `order/saga/${saga}`, sentAt: at, traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }) });
  const event = (type: string) => JSON.stringify({ id: Bun.randomUUIDv7(), type, data: { orderId: `ord-${n}`, step: 'chargePayment', amount: 4_200, items: [{ sku: 'SKU-1', qty: 2 }] }, aggregate: `order/saga/${saga}`, at, cause: Bun.randomUUIDv7() });
  const batch = new Batch();
  batch.add({} as HostedActor, {
    outbox: [message('payment/charge/ord-1', { type: 'charge', orderId: `ord-${n}`, amount: 4_200, idempotencyKey: `ord-${n}:charge` }), message('order/order/ord-1', { type: 'stepDone', step: 'reserveInventory' })],
    events: [event('SagaStep'), event('OrderReserved')],
    timers: [[`order/saga/${saga}|retry`, [at + 5_000, JSON.stringify({ m: Bun.randomUUIDv7(), a: `order/saga/${saga}`, e: '{"type":"xstate.after.retry"}' })]]],
    effectsSet: [],
    effectsDel: [],
    inspections: [],
  }, { id: Bun.randomUUIDv7(), type: 'reply' });
  batch.acks.push(`${at}-0`, `${at}-1`);
  batch.seen.push(Bun.randomUUIDv7(), Bun.randomUUIDv7());
  const records: string[] = [];
  const record = (r: string): string | number => (placement === 'records' && r.length > LARGE_RECORD ? FIRST_RECORD_ARG + records.push(r) - 1 : r);
  const head = () => `{"v":${version + 1},"at":${at},"k":20,"c":[{"id":"${Bun.randomUUIDv7()}","type":"reply","from":"payment/charge/ord-${n}"}],"r":`;
  const writes: ActorWrite[] = [
    [String(version), String(version + 1), record(recordOf(1_700, n)), `saga/${saga}`, 'charging', false, head(), 20],
    [String(version), String(version + 1), record(recordOf(450, n)), `order/${order}`, 'placed', false, head(), 20],
  ];
  const direct = batch.numberedMessages();
  const payload = JSON.stringify(batch.payload(writes, [], direct));
  const scriptKeys = [keys.lease, keys.mbox, keys.seen, keys.outbox, keys.events, keys.timers, keys.timerData, keys.effects, keys.tries, keys.index, keys.dlq, keys.expiry, keys.actor('saga', saga), keys.actor('order', order), keys.history('saga', saga), keys.history('order', order), ...direct.mailboxes];
  return [sha, String(scriptKeys.length), ...scriptKeys, 'lease', 'g', String(at), '60000', '1000', payload, '1000', ...records];
}
/** The characters of a commit's arguments (its ARGV, not its keys). */
const argChars = (call: string[]) => call.slice(2 + Number(call[1])).join('').length;

type Row = { bytes: number; call: number; set: number; decode: number };
type OwnRow = { bytes: number; count: number; inside: Cost; own: Cost };
const OWN_SIZES: [size: number, count: number][] = [[30, 20], [60, 20], [100, 20], [300, 20], [1_700, 20], [60, 190]];

try {
  await deletePrefix(redis.url, PREFIX);
  const empty = String(await client.send('SCRIPT', ['LOAD', 'return 1']));
  const decode = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) return 1']));
  const runs: Row[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const rows: Row[] = [];
    for (const size of SIZES) {
      const arg = commitLike(size);
      const call = await usPerCall('evalsha', () => client.send('EVALSHA', [empty, '0', arg]));
      const set = await usPerCall('set', () => client.send('SET', [`${PREFIX}:set`, arg]));
      const decoded = await usPerCall('evalsha', () => client.send('EVALSHA', [decode, '0', arg]));
      rows.push({ bytes: arg.length, call, set, decode: decoded - call });
    }
    runs.push(rows);
  }

  const readInside = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) local n = 0 for _, v in ipairs(d.e) do n = n + #v end return n']));
  const readOwn = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) local n = 0 for _, i in ipairs(d.e) do n = n + #ARGV[i] end return n']));
  const ownRuns: OwnRow[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const rows: OwnRow[] = [];
    for (const [size, count] of OWN_SIZES) {
      const strings = payloads(size, count);
      const send = {
        inside: () => client.send('EVALSHA', [readInside, '0', JSON.stringify({ e: strings })]),
        own: () => client.send('EVALSHA', [readOwn, '0', JSON.stringify({ e: strings.map((_, i) => i + 2) }), ...strings]),
      };
      // Alternated, so neither always runs after the other's garbage.
      const order = round % 2 ? (['own', 'inside'] as const) : (['inside', 'own'] as const);
      const cost = {} as Record<'inside' | 'own', Cost>;
      for (const which of order) cost[which] = await costPerCall('evalsha', send[which]);
      rows.push({ bytes: strings[0]!.length, count, ...cost });
    }
    ownRuns.push(rows);
  }

  await client.send('SET', [keys.lease, 'lease']);
  const commitSha = String(await client.send('SCRIPT', ['LOAD', scripts.commitTurn.source]));
  const chars = Object.fromEntries(PLACEMENTS.map((p) => [p, argChars(sagaCommit(commitSha, p))])) as Record<Placement, number>;
  versions.clear();
  commits = 0;
  /** Sends one saga-shaped commit and checks it committed (a refused one would time a script cut short). */
  const sendCommit = async (placement: Placement) => {
    const res = (await client.send('EVALSHA', sagaCommit(commitSha, placement))) as unknown[];
    if (res[0] !== 1) throw new Error(`the saga-shaped commit was refused: ${JSON.stringify(res)}`);
  };
  // Untimed: every saga past its history's length, so each timed commit trims as the shop's do.
  for (let i = 0; i < SAGAS * 21; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => sendCommit(PLACEMENTS[k % 2]!)));
  const commitRuns: Record<Placement, Cost>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const row = {} as Record<Placement, Cost>;
    // Each round starts with the next placement, and the mailbox the messages went to is emptied before each.
    for (let i = 0; i < PLACEMENTS.length; i++) {
      const placement = PLACEMENTS[(round + i) % PLACEMENTS.length]!;
      await client.send('DEL', [mailbox]);
      row[placement] = await costPerCall('evalsha', () => sendCommit(placement));
    }
    commitRuns.push(row);
  }

  const rows = SIZES.map((_, i) => ({
    bytes: runs[0]![i]!.bytes,
    call: median(runs.map((r) => r[i]!.call)),
    set: median(runs.map((r) => r[i]!.set)),
    decode: median(runs.map((r) => r[i]!.decode)),
  }));
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  // The slope between the smallest and the largest argument: what each further byte costs.
  const perByte = (f: (r: Row) => number) => (1000 * (f(last) - f(first))) / (last.bytes - first.bytes);
  const slope = { callNsPerByte: perByte((r) => r.call), setNsPerByte: perByte((r) => r.set), decodeNsPerByte: perByte((r) => r.decode) };
  console.log(`Redis µs per command, medians of ${ROUNDS} rounds × ${CALLS} pipelined calls (INFO commandstats)`);
  console.log(`${'bytes'.padStart(7)}  ${'script call'.padStart(11)}  ${'SET'.padStart(6)}  ${'cjson.decode'.padStart(12)}`);
  for (const r of rows) console.log(`${String(r.bytes).padStart(7)}  ${r.call.toFixed(2).padStart(11)}  ${r.set.toFixed(2).padStart(6)}  ${r.decode.toFixed(2).padStart(12)}`);
  console.log(
    `each further byte: ${slope.callNsPerByte.toFixed(2)} ns to hand to a script, ${slope.decodeNsPerByte.toFixed(2)} ns to decode there, ` +
      `${slope.setNsPerByte.toFixed(3)} ns to SET (script call / SET ${(slope.callNsPerByte / Math.max(slope.setNsPerByte, 1e-6)).toFixed(0)}×)`,
  );

  /** The medians of a cost over the rounds, rounded. */
  const medianCost = (costs: Cost[]): Cost => ({ us: +median(costs.map((c) => c.us)).toFixed(2), cpu: +median(costs.map((c) => c.cpu)).toFixed(2), wall: +median(costs.map((c) => c.wall)).toFixed(2) });
  const ownRows = OWN_SIZES.map((_, i) => ({
    chars: ownRuns[0]![i]!.bytes,
    count: ownRuns[0]![i]!.count,
    inside: medianCost(ownRuns.map((r) => r[i]!.inside)),
    own: medianCost(ownRuns.map((r) => r[i]!.own)),
  }));
  console.log(`\nN JSON payloads of C characters: inside the batch's JSON, or each an argument of its own; µs per call: in the command, Redis's main thread, the client's wall (pipelined)`);
  console.log(`${'N × C'.padStart(9)}  ${'command: inside'.padStart(15)}  ${'own'.padStart(6)}  ${'×'.padStart(5)}  ${'Redis CPU: inside'.padStart(17)}  ${'own'.padStart(6)}  ${'×'.padStart(5)}  ${'wall: inside'.padStart(12)}  ${'own'.padStart(6)}`);
  for (const r of ownRows) {
    console.log(
      `${`${r.count} × ${r.chars}`.padStart(9)}  ${r.inside.us.toFixed(2).padStart(15)}  ${r.own.us.toFixed(2).padStart(6)}  ${(r.own.us / r.inside.us).toFixed(2).padStart(5)}  ` +
        `${r.inside.cpu.toFixed(2).padStart(17)}  ${r.own.cpu.toFixed(2).padStart(6)}  ${(r.own.cpu / r.inside.cpu).toFixed(2).padStart(5)}  ${r.inside.wall.toFixed(2).padStart(12)}  ${r.own.wall.toFixed(2).padStart(6)}`,
    );
  }

  const commit = Object.fromEntries(PLACEMENTS.map((p) => [p, { chars: chars[p], ...medianCost(commitRuns.map((r) => r[p])) }])) as Record<Placement, Cost & { chars: number }>;
  console.log(`\nthe commit script on a one-turn saga-shaped batch (${SAGAS} sagas' actors in turn), µs per call: in the command, Redis's main thread`);
  console.log(`${'records'.padEnd(48)}  ${'characters'.padStart(10)}  ${'command'.padStart(7)}  ${'×'.padStart(5)}  ${'Redis CPU'.padStart(9)}  ${'×'.padStart(5)}`);
  const label: Record<Placement, string> = { records: `over ${LARGE_RECORD} characters as arguments (the runtime)`, inside: 'inside the JSON, as every other payload' };
  for (const p of PLACEMENTS) {
    const c = commit[p];
    console.log(`${label[p].padEnd(48)}  ${String(c.chars).padStart(10)}  ${c.us.toFixed(1).padStart(7)}  ${(c.us / commit.records.us).toFixed(2).padStart(5)}  ${c.cpu.toFixed(1).padStart(9)}  ${(c.cpu / commit.records.cpu).toFixed(2).padStart(5)}`);
  }
  if (json) console.log(JSON.stringify({ name: 'script-args', rows: rows.map((r) => ({ ...r, call: +r.call.toFixed(2), set: +r.set.toFixed(3), decode: +r.decode.toFixed(2) })), ...slope, ownRows, commit }));
} finally {
  await deletePrefix(redis.url, PREFIX).catch(() => 0);
  client.close();
  await redis.stop();
}
