import { afterAll, describe, expect, it } from 'bun:test';
import { RedisClient } from 'bun';
import { assign, setup } from 'xstate';
import { createNode, defineActor, type MailroomNode } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { bytesOf, familyOf, memoryByFamily } from './_redis-memory.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('familyOf', () => {
  it("should put each of a partition's keys in the family bench saga reports it under", () => {
    const k = partitionKeys('mr', 'order', 1);
    const families: Record<string, string> = {
      [k.mbox]: 'mailboxes',
      [k.outbox]: 'mailboxes',
      [k.timers]: 'timers and effects',
      [k.timerData]: 'timers and effects',
      [k.effects]: 'timers and effects',
      [k.tries]: 'timers and effects',
      [k.actor('fulfillment', 'o-1')]: 'records',
      [k.index]: 'records',
      [k.expiry]: 'records',
      [k.history('fulfillment', 'o-1')]: 'histories',
      [k.events]: 'event log',
      [k.eventDeadLetters('notices')]: 'event log',
      [k.eventGaps('notices')]: 'event log',
      [k.seen]: 'dedupe',
      [k.dlq]: 'dead letters',
      [k.lease]: 'other',
      [k.fence]: 'other',
      [globalKeys('mr').inspect]: 'inspection',
      'mr:svc:provider:{provider}:charges': 'service data',
      'other:{order:1}:mbox': 'other',
    };
    expect(Object.fromEntries(Object.keys(families).map((key) => [key, familyOf(key, 'mr') as string]))).toEqual(families);
  });

  it('should not take an actor whose type is named like a key for that key', () => {
    expect(familyOf(partitionKeys('mr', 'order', 0).actor('mbox', 'x'), 'mr')).toBe('records');
    expect(familyOf(partitionKeys('mr', 'order', 0).history('seen', 'x'), 'mr')).toBe('histories');
  });
});

/** A counter that keeps its last 3 versions, as the shop's types keep theirs. */
const counter = defineActor(
  'counter',
  setup({ types: {} as { context: { n: number }; events: { type: 'inc' } } }).createMachine({
    context: { n: 0 },
    on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  }),
  { history: { keep: 3 } },
);

describe('memoryByFamily', () => {
  it("should sum what a node's commits wrote by family, every key of the prefix counted once", async () => {
    const prefix = testPrefix('redis-memory');
    prefixes.push(prefix);
    const node = await createNode({ service: 'shop', actors: [counter], redis: SHARED_REDIS, keyPrefix: prefix, partitions: 2 });
    nodes.push(node);
    for (let i = 0; i < 20; i++) await node.send(`shop/counter/c-${i % 4}`, { type: 'inc' });
    await waitFor('the 20 increments', async () => {
      const views = await Promise.all([0, 1, 2, 3].map((i) => node.read(`shop/counter/c-${i}`)));
      return views.every((v) => (v?.context as { n?: number })?.n === 5) || null;
    });
    await node.stop();

    const client = new RedisClient(SHARED_REDIS);
    await client.connect();
    try {
      const got = await memoryByFamily(client, prefix);
      const keys = (await client.send('KEYS', [`${prefix}:*`])) as string[];
      const sizes = await Promise.all(keys.map(async (key) => [key, Number(await client.send('MEMORY', ['USAGE', key, 'SAMPLES', '0']))] as const));
      const expected: Record<string, number> = {};
      for (const [key, size] of sizes) expected[familyOf(key, prefix)] = (expected[familyOf(key, prefix)] ?? 0) + size;
      expect(Object.fromEntries(Object.entries(got.bytes).filter(([, b]) => b > 0))).toEqual(expected);
      // What the commits wrote: four counters' records and histories, their mailboxes' entries, the dedup window.
      for (const family of ['records', 'histories', 'mailboxes', 'dedupe'] as const) expect(got.bytes[family]).toBeGreaterThan(0);
      expect(got.keys.histories).toBe(4);
      expect(got.mailboxKeys.sort()).toEqual(keys.filter((k) => familyOf(k, prefix) === 'mailboxes').sort());
      expect(got.mailboxKeys).toContain(partitionKeys(prefix, 'shop', 0).mbox);
      expect(await bytesOf(client, got.mailboxKeys)).toBe(got.bytes.mailboxes);
    } finally {
      client.close();
    }
  });
});
