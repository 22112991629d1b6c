/**
 * Following a service's event log without a consumer group (`tailEvents`), against real Redis, events written
 * straight into the slices as a committed turn writes them: what was there before is not handed on, what comes
 * after is, in order per slice, and no group is left behind; a read cut by a killed connection goes on from where
 * it was, so nothing added meanwhile is skipped.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { tailEvents, type DomainEvent, type EventTail } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, startRedisServer, testPrefix, waitFor, type PrivateRedis } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const SERVICE = 'src';
const prefixes: string[] = [];
const tails: EventTail[] = [];
const servers: PrivateRedis[] = [];
const clients: { quit(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.all(tails.map((t) => t.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
  for (const c of clients) await c.quit().catch(() => {});
  for (const s of servers) await s.stop();
});

/** A service of `partitions` slices under a fresh prefix on `url`. */
async function setup(name: string, partitions: number, url = SHARED_REDIS) {
  const redis = createClient({ url });
  redis.on('error', () => {});
  await redis.connect();
  clients.push(redis);
  const prefix = testPrefix(name);
  if (url === SHARED_REDIS) prefixes.push(prefix);
  await redis.hSet(globalKeys(prefix).service(SERVICE), 'partitions', String(partitions));
  const slice = (p: number) => partitionKeys(prefix, SERVICE, p).events;
  /** Appends one domain event to slice `p`, as a committed turn does. */
  const append = (p: number, seq: number) =>
    redis.xAdd(slice(p), '*', { e: JSON.stringify({ id: `e-${p}-${seq}`, type: 'Emitted', aggregate: `${SERVICE}/emitter/${p}`, at: Date.now(), cause: `m-${seq}`, seq }) });
  return { redis, prefix, slice, append, url };
}

async function follow(setupOf: Awaited<ReturnType<typeof setup>>, seen: DomainEvent[], errors: unknown[] = []) {
  const tail = await tailEvents({ service: SERVICE, redis: setupOf.url, keyPrefix: setupOf.prefix, blockMs: 200, onEvent: (e) => void seen.push(e), onError: (e) => void errors.push(e) });
  tails.push(tail);
  return tail;
}

describe('tailEvents', () => {
  it('should hand on the events added after it began, in order per slice, and leave no consumer group', async () => {
    const s = await setup('tail-order', 3);
    for (let p = 0; p < 3; p++) await s.append(p, 0); // before: not handed on
    const seen: DomainEvent[] = [];
    const tail = await follow(s, seen);
    for (let seq = 1; seq <= 20; seq++) await s.append(seq % 3, seq);
    await waitFor('the 20 events added after it began', () => seen.length >= 20, 5_000);
    await Bun.sleep(100);
    expect(seen.map((e) => e.seq).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (let p = 0; p < 3; p++) {
      const ofSlice = seen.filter((e) => e.aggregate === `${SERVICE}/emitter/${p}`).map((e) => Number(e.seq));
      expect(ofSlice).toEqual([...ofSlice].sort((a, b) => a - b));
      expect(seen.filter((e) => e.aggregate === `${SERVICE}/emitter/${p}`).every((e) => e.position.startsWith(`${p}:`))).toBe(true);
      expect(await s.redis.xInfoGroups(s.slice(p))).toEqual([]);
    }
    await tail.stop();
  });

  it('should go on from where it was after its connection is killed, skipping nothing added meanwhile', async () => {
    const server = await startRedisServer({ appendonly: false });
    servers.push(server);
    const s = await setup('tail-killed', 2, server.url);
    const seen: DomainEvent[] = [];
    const errors: unknown[] = [];
    await follow(s, seen, errors);
    await s.append(0, 1);
    await waitFor('the first event', () => seen.length === 1, 5_000);
    // Every connection but ours (the tail's blocked read among them) is cut; events come while it reconnects.
    await s.redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    for (let seq = 2; seq <= 6; seq++) await s.append(seq % 2, seq);
    await waitFor('the five events added while it was cut off', () => seen.length >= 6, 10_000);
    await Bun.sleep(300);
    expect(seen.map((e) => Number(e.seq)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('should take the events added while it lingers in one read, each once and in order', async () => {
    const s = await setup('tail-linger', 1);
    const { openLink } = await import('../../runtime/redis/link.ts');
    const inner = await openLink(s.url, 'node-redis', { blocking: true });
    /** How many of the tail's reads brought events. */
    let fruitful = 0;
    const link = { ...inner, call: async (args: Parameters<typeof inner.call>[0]) => {
      const reply = await inner.call(args);
      if (args[0] === 'XREAD' && reply) fruitful++;
      return reply;
    } };
    const seen: DomainEvent[] = [];
    const tail = await tailEvents({ link, service: SERVICE, redis: s.url, keyPrefix: s.prefix, blockMs: 200, lingerMs: () => 400, onEvent: (e) => void seen.push(e) });
    tails.push(tail);
    await s.append(0, 1);
    await waitFor('the first event', () => seen.length === 1, 5_000);
    // Four more, 20 ms apart, while the tail lingers after the read that brought the first: one read takes them all.
    for (let seq = 2; seq <= 5; seq++) {
      await Bun.sleep(20);
      await s.append(0, seq);
    }
    await waitFor('the five events', () => seen.length >= 5, 5_000);
    await Bun.sleep(100);
    expect(seen.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(fruitful).toBe(2);
  });

  it('should refuse to follow a service no node has registered, naming it', async () => {
    expect((await rejectionOf(tailEvents({ service: 'nobody-registered-this', redis: SHARED_REDIS, keyPrefix: testPrefix('tail-unknown'), onEvent: () => {} }))).message).toContain('nobody-registered-this');
  });
});
