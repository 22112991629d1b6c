/**
 * A new actor's first message costs no read: each partition's owner scans its actor index once, in the background,
 * and keeps what it learns (and every actor its commits may write) in a Bloom filter (`runtime/node/known-actors.ts`).
 * What must hold: an actor the filter has never seen is created without an `HMGET`; an actor written by an earlier
 * owner is read and goes on from its record; until the scan is through, or when it failed, every actor is read; a
 * record no index line names (written by hand, or its line lost) refuses the commit that assumed it new, and the
 * message is then applied on it, once; a message that failed on the fresh state is tried on the record before it
 * counts; a repeat is answered, and a timer's firing applied, on the record.
 */
import { afterAll, beforeEach, describe, expect, it } from 'bun:test';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { BloomFilter } from '../../runtime/node/bloom-filter.ts';
import type { RedisArg, RedisLink } from '../../runtime/redis/index.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { alarm, counter, guarded } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

type Sent = { args: RedisArg[]; answered: boolean };

/** Watches a node's calls; `holdScans` ms delay each `HSCAN`'s answer, `failScans` makes them fail. */
class Watch {
  readonly sent: Sent[] = [];
  holdScans = 0;
  failScans = false;
  wrap = (link: RedisLink): RedisLink => ({
    call: async (args, routeKey) => {
      const call: Sent = { args, answered: false };
      this.sent.push(call);
      if (args[0] === 'HSCAN') {
        if (this.holdScans > 0) await Bun.sleep(this.holdScans);
        if (this.failScans) throw new Error('injected: the index scan failed');
      }
      const reply = await link.call(args, routeKey);
      call.answered = true;
      return reply;
    },
    close: () => link.close(),
    abort: () => link.abort(),
  });
  /** `HMGET`s of one record key. */
  reads(key: string): number {
    return this.sent.filter((c) => c.args[0] === 'HMGET' && c.args[1] === key).length;
  }
  scanned(): boolean {
    return this.sent.some((c) => c.args[0] === 'HSCAN' && c.answered);
  }
}

const prefix = testPrefix('known-actors');
const nodes: MailroomNode[] = [];
const errors: string[] = [];
let n = 0;
beforeEach(() => {
  errors.length = 0;
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop().catch(() => {})));
  await cleanupPrefix(prefix);
});

async function start(keyPrefix: string, watch: Watch): Promise<MailroomNode> {
  const node = await createNode({ service: 'svc', actors: [counter, alarm, guarded], keyPrefix, redis: SHARED_REDIS, partitions: 1, retryBaseMs: 50, onError: (e, where) => errors.push(`${where}: ${String(e)}`), wrapLink: watch.wrap });
  nodes.push(node);
  await waitFor('the node owns its partition', async () => node.owned().length === 1, 10_000);
  return node;
}

/** A partition of its own: the key prefix its nodes use, and its keys. */
function place() {
  const at = `${prefix}-${n++}`;
  return { at, keys: partitionKeys(at, 'svc', 0) };
}

/** An owner of the partition whose scan of the index has gone through. */
async function scannedOwner(at: string, watch = new Watch()): Promise<MailroomNode> {
  const node = await start(at, watch);
  await waitFor('the index scanned', async () => watch.scanned(), 5_000);
  return node;
}

/** What an earlier owner wrote: `write` runs on it, then it stops and leaves the partition to the next. */
async function earlierOwner(at: string, write: (node: MailroomNode) => Promise<unknown>): Promise<void> {
  const first = await start(at, new Watch());
  await write(first);
  await first.stop();
}

/** Takes an actor's line out of the index by hand, as if lost: a scan no longer sees its record. */
async function dropIndexLine(indexKey: string, field: string): Promise<void> {
  const link = await openLink(SHARED_REDIS, 'node-redis');
  await link.call(['HDEL', indexKey, field]);
  await link.close();
}

const inc = async (node: MailroomNode, id: string) => {
  await node.ask(`svc/counter/${id}`, { type: 'inc' });
  return ((await node.ask(`svc/counter/${id}`, { type: 'get' })) as { reply: unknown }).reply;
};

describe('a partition owner that knows which actors exist', () => {
  it('should apply a new actor’s first message without reading its record', async () => {
    const { at, keys } = place();
    const watch = new Watch();
    const node = await scannedOwner(at, watch);
    expect(await inc(node, 'fresh')).toBe(1);
    expect(watch.reads(keys.actor('counter', 'fresh'))).toBe(0);
    expect(errors).toEqual([]);
  });

  it('should read an actor an earlier owner wrote, and go on from its record', async () => {
    const { at, keys } = place();
    await earlierOwner(at, async (first) => {
      for (let i = 0; i < 3; i++) await first.ask('svc/counter/old', { type: 'inc' });
    });
    const watch = new Watch();
    const second = await scannedOwner(at, watch);
    expect(await inc(second, 'old')).toBe(4);
    expect(watch.reads(keys.actor('counter', 'old'))).toBe(1);
    expect(errors).toEqual([]);
  });

  it('should read every actor until its scan of the index is through', async () => {
    const { at, keys } = place();
    await earlierOwner(at, async (first) => {
      for (let i = 0; i < 3; i++) await first.ask('svc/counter/old', { type: 'inc' });
    });
    const watch = new Watch();
    watch.holdScans = 1_500;
    const second = await start(at, watch);
    // The scan's answer is still 1.5 s away: nothing is known, so the old actor is read (not taken for new).
    expect(await inc(second, 'old')).toBe(4);
    expect(await inc(second, 'early')).toBe(1);
    expect(watch.scanned()).toBe(false);
    expect(watch.reads(keys.actor('counter', 'old'))).toBe(1);
    expect(watch.reads(keys.actor('counter', 'early'))).toBe(1);
    await waitFor('the index scanned', async () => watch.scanned(), 5_000);
    expect(await inc(second, 'late')).toBe(1);
    expect(watch.reads(keys.actor('counter', 'late'))).toBe(0);
    expect(errors).toEqual([]);
  });

  it('should read every actor when its scan failed, and say so', async () => {
    const { at, keys } = place();
    const watch = new Watch();
    watch.failScans = true;
    const node = await start(at, watch);
    await waitFor('the failed scan reported', async () => errors.some((e) => e.includes('the index scan failed')), 5_000);
    expect(errors.find((e) => e.includes('the index scan failed'))).toContain('every actor is read');
    expect(await inc(node, 'any')).toBe(1);
    expect(watch.reads(keys.actor('counter', 'any'))).toBe(1);
    // Tried again after a pause: once a scan goes through, a new actor costs no read.
    watch.failScans = false;
    await waitFor('a later scan through', async () => watch.scanned(), 5_000);
    expect(await inc(node, 'after')).toBe(1);
    expect(watch.reads(keys.actor('counter', 'after'))).toBe(0);
  });

  it('should try a message that failed on a fresh state again on the record no index line names, before it counts', async () => {
    const { at, keys } = place();
    await earlierOwner(at, async (first) => {
      for (let i = 0; i < 2; i++) await first.ask('svc/guarded/g', { type: 'add' });
    });
    await dropIndexLine(keys.index, 'guarded/g');
    const second = await scannedOwner(at);
    // Taken for new, `use` throws on n = 0; read, it finds n = 2 and takes one.
    await second.ask('svc/guarded/g', { type: 'use' });
    expect((await second.read<{ n: number }>('svc/guarded/g'))?.context.n).toBe(1);
    expect(errors.filter((e) => e.includes('nothing to use'))).toEqual([]);
  });

  it('should commit a new actor’s good turns beside a failing message, and dead-letter that message after its tries', async () => {
    const { at } = place();
    const node = await scannedOwner(at);
    // One batch, most likely: the add and the first use apply, the second use throws on n = 0. Taken without a read,
    // it is tried again on the record (n = 0 there too) before it counts, then fails its five tries.
    await Promise.all([node.send('svc/guarded/b', { type: 'add' }), node.send('svc/guarded/b', { type: 'use' }), node.send('svc/guarded/b', { type: 'use' })]);
    await waitFor('the failing use dead-lettered', async () => (await node.deadLetters.list()).length === 1, 10_000);
    const [letter] = await node.deadLetters.list();
    expect(letter!.deliveries).toBe(5);
    const stored = await node.read<{ n: number }>('svc/guarded/b');
    expect(stored?.context.n).toBe(0);
  });

  it('should answer a repeated ask from the record of an actor no index line names', async () => {
    const { at, keys } = place();
    await earlierOwner(at, async (first) => {
      for (let i = 0; i < 3; i++) await first.ask('svc/counter/r', { type: 'inc' });
      const answered = (await first.ask('svc/counter/r', { type: 'get' }, { id: `${at}-get-1` })) as { reply: unknown };
      expect(answered.reply).toBe(3);
    });
    await dropIndexLine(keys.index, 'counter/r');
    const second = await scannedOwner(at);
    // The asker retries within the dedupe window: the repeat is answered from the record, not from a fresh state.
    const again = (await second.ask('svc/counter/r', { type: 'get' }, { id: `${at}-get-1` })) as { duplicate?: boolean; context?: { n: number } };
    expect(again.duplicate).toBe(true);
    expect(again.context?.n).toBe(3);
  });

  it('should apply a message once on a record no index line names: the commit that took it for new writes nothing', async () => {
    const { at, keys } = place();
    const node = await scannedOwner(at);
    for (let i = 0; i < 5; i++) await node.ask('svc/counter/model', { type: 'inc' });
    // A record written by hand, outside any commit: a copy of the model's (n = 5), with no line in the index.
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const fields = (await link.call(['HGETALL', keys.actor('counter', 'model')])) as Record<string, string> | string[];
    const flat = Array.isArray(fields) ? fields : Object.entries(fields).flat();
    await link.call(['HSET', keys.actor('counter', 'copy'), ...flat]);
    await link.close();
    expect(await inc(node, 'copy')).toBe(6);
    expect(errors.some((e) => e.includes('version conflict') && e.includes(keys.actor('counter', 'copy')))).toBe(true);
    expect(await inc(node, 'copy')).toBe(7);
  });

  it('should apply a timer’s firing on the record of an actor no index line names, not drop it', async () => {
    const { at, keys } = place();
    await earlierOwner(at, (first) => first.ask('svc/alarm/a', { type: 'arm' }));
    // The index loses the alarm's line: the next owner's scan does not see it.
    await dropIndexLine(keys.index, 'alarm/a');
    const second = await scannedOwner(at);
    // The 2 s timer falls due under the second owner, whose firing reads the actor it comes to.
    await waitFor('the alarm fired', async () => (await second.read<{ fires: number }>('svc/alarm/a'))?.context.fires === 1, 8_000);
    expect(errors).toEqual([]);
  });
});

describe('the Bloom filter under it', () => {
  it('should never say no of a string it was given, however far past its first capacity', () => {
    const filter = new BloomFilter(1_000, 0.005);
    for (let i = 0; i < 50_000; i++) filter.add(`counter/c-${i}`);
    let missing = 0;
    for (let i = 0; i < 50_000; i++) if (!filter.has(`counter/c-${i}`)) missing++;
    expect(missing).toBe(0);
  });

  it('should say maybe of fewer than 1 % of strings it was never given, in under 4 bytes each', () => {
    const filter = new BloomFilter(1_000, 0.005);
    for (let i = 0; i < 50_000; i++) filter.add(`counter/c-${i}`);
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) if (filter.has(`counter/d-${i}`)) wrong++;
    expect(wrong / 100_000).toBeLessThan(0.01);
    expect(filter.bytes / 50_000).toBeLessThan(4);
    expect(filter.count).toBeGreaterThan(49_000);
  });

  it('should refuse a capacity or rate it cannot hold', () => {
    expect(() => new BloomFilter(0, 0.01)).toThrow('capacity ≥ 1');
    expect(() => new BloomFilter(100, 1)).toThrow('a rate in (0, 1)');
  });
});
