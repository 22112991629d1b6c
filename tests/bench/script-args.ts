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
 * Redis's own time per command (`INFO commandstats`, µs per call: the time inside the command — reading the bytes off
 * the socket is outside it for both), medians of the rounds, and ns per further byte.
 */
import { RedisClient } from 'bun';
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
if (json) console.log(JSON.stringify({ name: 'script-args', rows: rows.map((r) => ({ ...r, call: +r.call.toFixed(2), set: +r.set.toFixed(3), decode: +r.decode.toFixed(2) })), ...slope }));
