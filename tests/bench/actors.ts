/**
 * `bun run bench actors [--json] [--actors 100000] [--passivate-after 30000]`: what an actor costs in memory, in the
 * node while it is active, in the node after passivation, and in Redis.
 *
 * This process hosts one Mailroom node (8 partitions, the counter actor with `passivateAfterMs`
 * = `--passivate-after`) on a private redis-server (persistence off; `REDIS_URL` if set); a producer process sends
 * one `inc` to each of `--actors` counters. Measured, each time after `Bun.gc(true)`:
 *   active       heap once every counter has committed its turn and is still cached in the node
 *   passivated   heap once the node has passivated them all (it does on lease ticks, between batches)
 * both as (heap − heap before the first message) / actors. In Redis: `INFO memory` used_memory before and after,
 * and what deleting the actors' own keys (snapshot hash + index entry) frees, per actor, which is what the JSON
 * reports as `redisBytesPerActor`; the rest of the growth is per message (the mailbox entry, which the runtime does
 * not trim, and the dedup set entry).
 */
import { RedisClient } from 'bun';
import { heapStats } from 'bun:jsc';
import { join } from 'node:path';
import { createNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { counterActor } from './_counter-actor.ts';
import { benchRedis, Child, deletePrefix, numberFlag } from './_kit.ts';

const json = process.argv.includes('--json');
const ACTORS = numberFlag('actors', 100_000);
const PASSIVATE_AFTER_MS = numberFlag('passivate-after', 30_000);
const PARTITIONS = 8;

const redis = await benchRedis();
const prefix = `bench-actors-${process.pid}`;
const client = new RedisClient(redis.url);
await client.connect();
let producer: Child | undefined;

const heap = () => {
  Bun.gc(true);
  Bun.gc(true);
  const stats = heapStats();
  return { used: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, objects: stats.objectCount, types: { ...stats.objectTypeCounts } };
};
const usedMemory = async (): Promise<number> => {
  const info = String(await client.send('INFO', ['memory']));
  return Number(/used_memory:(\d+)/.exec(info)![1]);
};
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

let out: { mailbox: number; mailboxLength: number; seen: number; active: number; passivated: number; redisActor: number; redisTotal: number; rssActive: number; activeMs: number; types: [string, number][] };
try {
  const node = await createNode({
    service: 'bench',
    actors: [counterActor({ passivateAfterMs: PASSIVATE_AFTER_MS })],
    redis: redis.url,
    keyPrefix: prefix,
    partitions: PARTITIONS,
    inspectStream: 'off',
  });
  await until('the node to own every partition', () => node.owned().length === PARTITIONS, 15_000);
  await Bun.sleep(200);
  const base = heap();
  const redisBase = await usedMemory();

  const started = performance.now();
  producer = new Child('producer', [
    'bun', join(import.meta.dir, '_mailbox-producer.ts'),
    '--redis', redis.url, '--prefix', prefix, '--target', 'mailroom', '--messages', String(ACTORS), '--actors', String(ACTORS), '--partitions', String(PARTITIONS),
  ]);
  await producer.next('result', 300_000);
  await producer.done();
  await until(`${ACTORS} committed turns`, () => node.stats().processed >= ACTORS, 300_000);
  const activeMs = performance.now() - started;
  const cached = node.stats().cachedActors;
  if (cached !== ACTORS) {
    throw new Error(`${cached} of ${ACTORS} actors are cached after the run (it took ${(activeMs / 1000).toFixed(1)} s): raise --passivate-after above that`);
  }
  const active = heap();
  const redisActive = await usedMemory();

  // Passivation: the lease tick (every leaseTtlMs / 3) asks each partition to evict actors idle for too long.
  await until('every actor to be passivated', () => node.stats().cachedActors === 0, PASSIVATE_AFTER_MS + 30_000);
  await Bun.sleep(200);
  const passivated = heap();
  await node.stop();

  // Per message: the mailbox entry and the dedup-set entry each message leaves behind.
  let mailboxBytes = 0;
  let seenBytes = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const keys = partitionKeys(prefix, 'bench', p);
    mailboxBytes += Number((await client.send('MEMORY', ['USAGE', keys.mbox, 'SAMPLES', '0'])) ?? 0);
    seenBytes += Number((await client.send('MEMORY', ['USAGE', keys.seen, 'SAMPLES', '0'])) ?? 0);
  }
  const mailboxLength = (
    await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => client.send('XLEN', [partitionKeys(prefix, 'bench', p).mbox])))
  ).reduce((n: number, len) => n + Number(len), 0);

  // What the actors' own keys hold: delete them (and their index entries) and see what Redis frees.
  const before = await usedMemory();
  for (let p = 0; p < PARTITIONS; p++) {
    const keys = partitionKeys(prefix, 'bench', p);
    let cursor = '0';
    do {
      const [next, found] = (await client.send('SCAN', [cursor, 'MATCH', keys.actor('counter', '*'), 'COUNT', '5000'])) as [string, string[]];
      cursor = next;
      if (found.length) await client.send('DEL', found);
    } while (cursor !== '0');
    await client.send('DEL', [keys.index]);
  }
  const redisActor = (before - (await usedMemory())) / ACTORS;

  const types = Object.entries(active.types)
    .map(([type, n]) => [type, (n - (base.types[type] ?? 0)) / ACTORS] as [string, number])
    .filter(([, perActor]) => perActor >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  out = {
    mailbox: mailboxBytes / ACTORS,
    mailboxLength,
    seen: seenBytes / ACTORS,
    active: (active.used - base.used) / ACTORS,
    passivated: (passivated.used - base.used) / ACTORS,
    redisActor,
    redisTotal: (redisActive - redisBase) / ACTORS,
    rssActive: (active.rss - base.rss) / ACTORS,
    activeMs,
    types,
  };
} finally {
  producer?.kill();
  await deletePrefix(redis.url, prefix);
  client.close();
  await redis.stop();
}

const bytes = (n: number) => `${Math.round(n).toLocaleString('en-US')} B`;
console.log(`actors: ${ACTORS.toLocaleString('en-US')} counters, one message each (${(out.activeMs / 1000).toFixed(1)} s to commit them all), passivateAfterMs ${PASSIVATE_AFTER_MS}`);
const rows: [string, string][] = [
  ['node heap per active actor', bytes(out.active)],
  ['node heap per passivated actor', bytes(out.passivated)],
  ['node RSS per active actor (diagnostic)', bytes(out.rssActive)],
  ['Redis per stored actor (snapshot hash + index entry)', bytes(out.redisActor)],
  ['Redis growth per actor+message (INFO used_memory delta)', bytes(out.redisTotal)],
  [`  of which the mailbox entry (${out.mailboxLength.toLocaleString('en-US')} acked entries still in the streams)`, bytes(out.mailbox)],
  ['  of which the dedup-set entry (kept for the dedup window)', bytes(out.seen)],
];
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v.padStart(9)}`);
console.log(`heap objects per active actor, by type: ${out.types.map(([t, n]) => `${t} ${n.toFixed(1)}`).join(', ')}`);
if (json) {
  console.log(
    JSON.stringify({ name: 'actors', activeBytesPerActor: Math.round(out.active), passivatedBytesPerActor: Math.round(out.passivated), redisBytesPerActor: Math.round(out.redisActor) }),
  );
}
process.exit(0);
