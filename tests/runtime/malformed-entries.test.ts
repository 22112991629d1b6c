/**
 * Mailbox entries the runtime never writes, pinned one by one (tests/fuzz/mailbox-entries.test.ts generates them in
 * bulk): each goes to the partition's dead letters with its reason, and the partition goes on applying what follows.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  for (const p of prefixes) await cleanupPrefix(p);
});

async function setUp(name: string) {
  const prefix = testPrefix(name);
  prefixes.push(prefix);
  const loopErrors: string[] = [];
  const node = await createNode({
    service: 'svc',
    actors: [counter],
    keyPrefix: prefix,
    redis: SHARED_REDIS,
    partitions: 2,
    onError: (error, where) => void (where.startsWith('partition') && loopErrors.push(String(error))),
  });
  nodes.push(node);
  const redis = createClient({ url: SHARED_REDIS });
  await redis.connect();
  const idIn = (partition: number, hint: string) => {
    for (let i = 0; ; i++) if (partitionOf(`svc/counter/${hint}${i}`, 2) === partition) return `${hint}${i}`;
  };
  const letters = async (partition: number) => ((await redis.xRange(partitionKeys(prefix, 'svc', partition).dlq, '-', '+')) ?? []).flatMap((l) => (l.message ? [l.message] : []));
  return { prefix, node, redis, loopErrors, idIn, letters, mbox: (p: number) => partitionKeys(prefix, 'svc', p).mbox };
}

describe('partition worker with malformed entries', () => {
  it('should dead-letter a malformed entry whose reply-to is null and keep the partition flowing', async () => {
    const { node, redis, loopErrors, idIn, letters, mbox } = await setUp('null-reply-to');
    const id = idIn(0, 'c');
    // `r: null` on a malformed entry used to crash every commit of the partition: nothing after it was applied.
    const bad = await redis.xAdd(mbox(0), '*', { m: 'bad-1', a: `svc/counter/${id}`, e: '{not json', r: 'null' });
    const odd = await redis.xAdd(mbox(0), '*', { m: 'bad-2', a: `svc/counter/${id}`, e: '{"type":"inc"}', r: '5' });
    await node.send(`svc/counter/${id}`, { type: 'inc' });
    expect((await node.ask<{ n: number }>(`svc/counter/${id}`, { type: 'get' }, { timeoutMs: 5_000 })).context.n).toBe(1);
    const byEntry = new Map((await letters(0)).map((l) => [l.entry, l.error]));
    expect(byEntry.get(bad)).toContain('event is not JSON');
    expect(byEntry.get(odd)).toContain('reply-to (field "r") is not {"n": node id, "q": ask id}: 5');
    expect(loopErrors).toEqual([]);
    await redis.quit();
  });

  it('should dead-letter an entry written into another partition’s mailbox instead of applying it there', async () => {
    const { node, redis, idIn, letters, mbox } = await setUp('wrong-partition');
    const stray = idIn(1, 's');
    await node.send(`svc/counter/${stray}`, { type: 'inc' });
    const misfiled = await redis.xAdd(mbox(0), '*', { m: 'misfiled-1', a: `svc/counter/${stray}`, e: '{"type":"inc","by":100}' });
    const own = idIn(0, 'o');
    await node.send(`svc/counter/${own}`, { type: 'inc' });
    expect((await node.ask<{ n: number }>(`svc/counter/${own}`, { type: 'get' }, { timeoutMs: 5_000 })).context.n).toBe(1);
    // Applied in partition 0 it would have made a second record of the counter there, apart from its real one.
    expect((await letters(0)).find((l) => l.entry === misfiled)?.error).toContain(`address svc/counter/${stray} belongs to partition 1 of service "svc", not 0`);
    expect(await redis.exists(partitionKeys(node.keyPrefix, 'svc', 0).actor('counter', stray))).toBe(0);
    expect((await node.ask<{ n: number }>(`svc/counter/${stray}`, { type: 'get' }, { timeoutMs: 5_000 })).context.n).toBe(1);
    await redis.quit();
  });
});
