/**
 * `bun run bench script-args [--json] [--rounds 5] [--calls 2000]`: what Redis charges a Lua script for the bytes it
 * is handed, apart from what the script does — the cost under every commit (`commit-turn-12.lua` gets the batch as
 * one JSON argument, large records as arguments of their own; a saga's commit carries ~11.6 KB: docs/benchmarks.md).
 *
 * On a private redis-server (persistence off; `REDIS_URL` to use another — only its counters are read, never reset):
 *   call       EVALSHA of `return 1` with one argument of N bytes, next to SET of the same N bytes (the same bytes
 *              parsed off the socket, no script)
 *   decode     EVALSHA of `cjson.decode(ARGV[1])` on a JSON list of N bytes shaped like a commit's (strings of JSON
 *              inside JSON, escaped), minus the call alone
 *   own        20 payloads of 30–1,700 bytes, and 190 of 60 (a mailbox commit's counters), inside the batch's JSON
 *              against each an argument of its own that the batch names by number (as `commitBatch` sends records
 *              over `LARGE_RECORD`): the script decodes the batch and reads each payload; the client's wall time per
 *              call is shown beside Redis's
 *   commit     the commit script itself (`commit-turn-12.lua`) on a saga-shaped batch built by the runtime's own
 *              encoder (`Batch`): two records with their history heads (1.7 KB and 0.45 KB), two events, two
 *              messages, a timer, two acks — ~4 KB; its records as arguments of their own (the runtime's rule) or
 *              inside the batch's JSON. The commits go to 300 sagas' actors in turn, each at its next version
 * Redis's own time per command (`INFO commandstats`, µs per call: the time inside the command — reading the bytes off
 * the socket is outside it for both), medians of the rounds, and ns per further byte.
 */
import { RedisClient } from 'bun';
import type { HostedActor } from '../../runtime/actor/hosted-actor.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { Batch, type ActorWrite } from '../../runtime/node/batch.ts';
import { LARGE_RECORD } from '../../runtime/node/batch-commit.ts';
import { entryFields } from '../../runtime/node/envelope.ts';
import { scripts } from '../../runtime/redis/script.ts';
import { benchRedis, median, numberFlag } from './_kit.ts';

const json = process.argv.includes('--json');
const ROUNDS = numberFlag('rounds', 5);
const CALLS = numberFlag('calls', 2_000);
const SIZES = [100, 1_000, 4_000, 12_000, 30_000];

const redis = await benchRedis();
const client = new RedisClient(redis.url);
await client.connect();

/** Redis's count of calls and µs spent in one command so far. */
async function stat(command: string): Promise<{ calls: number; usec: number }> {
  const info = String(await client.send('INFO', ['commandstats']));
  const line = info.split('\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  const field = (name: string) => Number(line?.match(new RegExp(`${name}=(\\d+)`))?.[1] ?? 0);
  return { calls: field('calls'), usec: field('usec') };
}

/** Redis's µs per call of `command` over CALLS pipelined calls made by `send`. */
async function usPerCall(command: string, send: () => Promise<unknown>): Promise<number> {
  const before = await stat(command);
  await Promise.all(Array.from({ length: CALLS }, send));
  const after = await stat(command);
  return (after.usec - before.usec) / (after.calls - before.calls);
}

/** A JSON list of about `bytes` bytes shaped like a commit's: domain events, each a JSON string inside the list. */
function commitLike(bytes: number): string {
  const events: string[] = [];
  for (let i = 0; JSON.stringify(events).length < bytes; i++) {
    events.push(JSON.stringify({ id: crypto.randomUUID(), type: 'StockHeld', data: { sku: `SKU-${i}`, orderId: `ord-${crypto.randomUUID()}`, qty: i % 3 }, at: Date.now() }));
  }
  return JSON.stringify(events);
}

const empty = String(await client.send('SCRIPT', ['LOAD', 'return 1']));
const decode = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) return 1']));
type Row = { bytes: number; call: number; set: number; decode: number };
const runs: Row[][] = [];
for (let round = 0; round < ROUNDS; round++) {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const arg = commitLike(size);
    const call = await usPerCall('evalsha', () => client.send('EVALSHA', [empty, '0', arg]));
    const set = await usPerCall('set', () => client.send('SET', ['bench:script-args', arg]));
    const decoded = await usPerCall('evalsha', () => client.send('EVALSHA', [decode, '0', arg]));
    rows.push({ bytes: arg.length, call, set, decode: decoded - call });
  }
  runs.push(rows);
}
/** `count` payloads of `size` bytes, shaped like a small record or an event. */
function payloads(size: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ s: { count: i, label: 'x'.repeat(Math.max(0, size - 26)) }, v: 1 }).slice(0, size));
}
const readInside = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) local n = 0 for _, v in ipairs(d.e) do n = n + #v end return n']));
const readOwn = String(await client.send('SCRIPT', ['LOAD', 'local d = cjson.decode(ARGV[1]) local n = 0 for _, i in ipairs(d.e) do n = n + #ARGV[i] end return n']));
/** [bytes, how many]: 20 of each size, and a mailbox commit's ~190 counters. */
const OWN_SIZES: [number, number][] = [[30, 20], [60, 20], [100, 20], [300, 20], [1_700, 20], [60, 190]];
type OwnRow = { bytes: number; count: number; inside: number; own: number; wallInside: number; wallOwn: number };
const ownRuns: OwnRow[][] = [];
for (let round = 0; round < ROUNDS; round++) {
  const rows: OwnRow[] = [];
  for (const [size, count] of OWN_SIZES) {
    const strings = payloads(size, count);
    let t = Bun.nanoseconds();
    const inside = await usPerCall('evalsha', () => client.send('EVALSHA', [readInside, '0', JSON.stringify({ e: strings })]));
    const wallInside = (Bun.nanoseconds() - t) / 1000 / CALLS;
    t = Bun.nanoseconds();
    const own = await usPerCall('evalsha', () => client.send('EVALSHA', [readOwn, '0', JSON.stringify({ e: strings.map((_, i) => i + 2) }), ...strings]));
    const wallOwn = (Bun.nanoseconds() - t) / 1000 / CALLS;
    rows.push({ bytes: strings[0]!.length, count, inside, own, wallInside, wallOwn });
  }
  ownRuns.push(rows);
}
/** A record of about `bytes` bytes, shaped like a saga's (its state, context and log). */
function recordOf(bytes: number, n: number): string {
  const log: unknown[] = [];
  const record = () => JSON.stringify({ s: { value: 'charging', context: { orderId: `ord-${n}`, total: 4_200, log } }, t: {}, f: {} });
  while (record().length < bytes) log.push({ step: 'reserveInventory', at: 1_764_900_000_000 + log.length, ok: true, note: 'reserved SKU-1 × 2' });
  return record();
}
const keys = partitionKeys('bench:script-args', 'svc', 0);
await client.send('SET', [keys.lease, 'lease']);
const commitSha = String(await client.send('SCRIPT', ['LOAD', scripts.commitTurn.source]));
let commits = 0;
/** Each actor's version so far: the commits cycle through `SAGAS` sagas, each a saga and an order actor. */
const versions = new Map<string, number>();
const SAGAS = 300;
/** Where a commit's records go: all `inside` the batch's JSON, or those over `LARGE_RECORD` as arguments of their own (the runtime's rule). */
type Placement = 'inside' | 'records';
const PLACEMENTS: Placement[] = ['records', 'inside'];
/** One saga-shaped commit's keys and arguments, its payloads placed as `placement` says. */
function sagaCommit(placement: Placement): string[] {
  const n = commits++ % SAGAS;
  const ids = [`saga-${n}`, `order-${n}`];
  const version = versions.get(ids[0]!) ?? 0;
  versions.set(ids[0]!, version + 1);
  const batch = new Batch();
  const at = 1_764_900_000_000 + n;
  const message = (to: string, event: object) => ({ mbox: `${keys.mbox}:to`, fields: entryFields({ id: Bun.randomUUIDv7(), address: to, event, from: `order/saga/${ids[0]}`, sentAt: at, traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }) });
  const event = (type: string) => JSON.stringify({ id: Bun.randomUUIDv7(), type, data: { orderId: `ord-${n}`, step: 'chargePayment', amount: 4_200, items: [{ sku: 'SKU-1', qty: 2 }] }, aggregate: `order/saga/${ids[0]}`, at, cause: Bun.randomUUIDv7() });
  batch.add({} as HostedActor, {
    outbox: [message('payment/charge/ord-1', { type: 'charge', orderId: `ord-${n}`, amount: 4_200, idempotencyKey: `ord-${n}:charge` }), message('order/order/ord-1', { type: 'stepDone', step: 'reserveInventory' })],
    events: [event('SagaStep'), event('OrderReserved')],
    timers: [[`order/saga/${ids[0]}|retry`, [at + 5_000, JSON.stringify({ m: Bun.randomUUIDv7(), a: `order/saga/${ids[0]}`, e: '{"type":"xstate.after.retry"}' })]]],
    effectsSet: [],
    effectsDel: [],
    inspections: [],
  }, { id: Bun.randomUUIDv7(), type: 'reply' });
  batch.acks.push(`${at}-0`, `${at}-1`);
  batch.seen.push(Bun.randomUUIDv7(), Bun.randomUUIDv7());
  const args: string[] = [];
  const record = (r: string): string | number => (placement === 'records' && r.length > LARGE_RECORD ? 8 + args.push(r) - 1 : r);
  const head = (v: number) => `{"v":${v},"at":${at},"c":[{"id":"${Bun.randomUUIDv7()}","type":"reply","from":"payment/charge/ord-${n}"}],"r":`;
  const writes: ActorWrite[] = [
    [String(version), String(version + 1), record(recordOf(1_700, n)), `saga/${ids[0]}`, 'charging', false, head(version + 1), 20],
    [String(version), String(version + 1), record(recordOf(450, n)), `order/${ids[1]}`, 'placed', false, head(version + 1), 20],
  ];
  const direct = batch.numberedMessages();
  const payload = JSON.stringify(batch.payload(writes, [], direct));
  const scriptKeys = [keys.lease, keys.mbox, keys.seen, keys.outbox, keys.events, keys.timers, keys.timerData, keys.effects, keys.tries, keys.index, keys.dlq, keys.expiry, keys.actor('saga', ids[0]!), keys.actor('order', ids[1]!), keys.history('saga', ids[0]!), keys.history('order', ids[1]!), ...direct.mailboxes];
  return [commitSha, String(scriptKeys.length), ...scriptKeys, 'lease', 'g', String(at), '60000', '1000', payload, '1000', ...args];
}
/** The bytes of a commit's arguments (its ARGV, not its keys). */
const argBytes = (call: string[]) => call.slice(2 + Number(call[1])).join('').length;
const commitBytes = Object.fromEntries(PLACEMENTS.map((p) => [p, argBytes(sagaCommit(p))])) as Record<Placement, number>;
versions.clear();
commits = 0;
/** Sends one saga-shaped commit and checks it committed (a refused one would time a script cut short). */
async function sendCommit(placement: Placement): Promise<void> {
  const res = (await client.send('EVALSHA', sagaCommit(placement))) as unknown[];
  if (res[0] !== 1) throw new Error(`the saga-shaped commit was refused: ${JSON.stringify(res)}`);
}
type CommitRow = Record<Placement, number>;
const commitRuns: CommitRow[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const row = {} as CommitRow;
  // Each round starts with the next placement, and the mailbox the messages went to is emptied before each.
  for (let i = 0; i < PLACEMENTS.length; i++) {
    const placement = PLACEMENTS[(round + i) % PLACEMENTS.length]!;
    await client.send('DEL', [`${keys.mbox}:to`]);
    row[placement] = await usPerCall('evalsha', () => sendCommit(placement));
  }
  commitRuns.push(row);
}
const commit = Object.fromEntries(PLACEMENTS.map((p) => [p, { bytes: commitBytes[p], us: +median(commitRuns.map((r) => r[p])).toFixed(2) }])) as Record<Placement, { bytes: number; us: number }>;
await client.send('DEL', ['bench:script-args']);
client.close();
await redis.stop();

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

const ownRows = OWN_SIZES.map((_, i) => {
  const m = (f: (r: OwnRow) => number) => +median(ownRuns.map((r) => f(r[i]!))).toFixed(2);
  return { bytes: ownRuns[0]![i]!.bytes, count: ownRuns[0]![i]!.count, inside: m((r) => r.inside), own: m((r) => r.own), wallInside: m((r) => r.wallInside), wallOwn: m((r) => r.wallOwn) };
});
console.log(`\nN payloads of B bytes: inside the batch's JSON, or each an argument of its own (Redis µs per call; the client's wall µs per call, pipelined)`);
console.log(`${'N × B'.padStart(9)}  ${'inside'.padStart(7)}  ${'own'.padStart(7)}  ${'own/inside'.padStart(10)}  ${'wall inside'.padStart(11)}  ${'wall own'.padStart(8)}`);
for (const r of ownRows) {
  console.log(`${`${r.count} × ${r.bytes}`.padStart(9)}  ${r.inside.toFixed(2).padStart(7)}  ${r.own.toFixed(2).padStart(7)}  ${(r.own / r.inside).toFixed(2).padStart(10)}  ${r.wallInside.toFixed(2).padStart(11)}  ${r.wallOwn.toFixed(2).padStart(8)}`);
}
console.log(`\nthe commit script on a saga-shaped batch (${SAGAS} sagas' actors in turn), Redis µs per call`);
console.log(`${'payloads'.padEnd(58)}  ${'bytes'.padStart(6)}  ${'µs'.padStart(6)}  ${'×'.padStart(5)}`);
const label: Record<Placement, string> = { records: `records over ${LARGE_RECORD} characters as arguments (the runtime)`, inside: 'every payload inside the JSON' };
for (const p of PLACEMENTS) console.log(`${label[p].padEnd(58)}  ${String(commit[p].bytes).padStart(6)}  ${commit[p].us.toFixed(1).padStart(6)}  ${(commit[p].us / commit.records.us).toFixed(2).padStart(5)}`);
if (json) console.log(JSON.stringify({ name: 'script-args', rows: rows.map((r) => ({ ...r, call: +r.call.toFixed(2), set: +r.set.toFixed(3), decode: +r.decode.toFixed(2) })), ...slope, ownRows, commit }));
