/**
 * The read that writes nothing: once an owner knows its group's position, `read-batch-3.lua` takes new entries by
 * XRANGE after it, and the batch's commit delivers them to the group as it acks them (under `appendfsync always` a
 * write's reply waits for the disk, so this takes one fsync off every hop). What must hold: the read changes nothing
 * in Redis (its change counter stays); the commit leaves the group where a group read and a commit would have —
 * position at the newest entry, applied ones and duplicates acked, held ones pending; a commit whose group is not
 * where the read left it writes nothing but that delivery; and a node whose commit wrote nothing (a version
 * conflict) reads through the group again rather than skip the entries that batch took.
 * Script-level cases run on a private Redis, so that nothing else moves its change counter.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys, type PartitionKeys } from '../../runtime/keys.ts';
import { jsonList } from '../../runtime/node/partition-reader.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { counter, flaky } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, startRedisServer, testPrefix, waitFor, type PrivateRedis } from '../helpers/redis.ts';
import { isScript, ScriptedFaults, type Call } from '../helpers/scripted-link.ts';

const LEASE = 'node-a|1';
const GROUP = 'g';
let redis: PrivateRedis;
let link: RedisLink;
let n = 0;
const nodes: MailroomNode[] = [];
const prefix = testPrefix('read-no-write');

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: false });
  link = await openLink(redis.url, 'node-redis');
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop().catch(() => {})));
  await link?.close();
  await redis?.stop();
  await cleanupPrefix(prefix);
});

/** A fresh partition with its group and lease; `add` appends a message to counter `a` with the given message id. */
async function partition(): Promise<{ k: PartitionKeys; add(mid: string, actor?: string): Promise<string> }> {
  const k = partitionKeys(`rnw${n++}`, 'svc', 0);
  await link.call(['SET', k.lease, LEASE]);
  await link.call(['XGROUP', 'CREATE', k.mbox, GROUP, '0', 'MKSTREAM']);
  return { k, add: async (mid, actor = 'svc/counter/a') => String(await link.call(['XADD', k.mbox, '*', 'm', mid, 'a', actor, 'e', '{"type":"inc"}'])) };
}

type Read = { code: number; entries: string[]; dups: string[]; complete: number; last: string; fresh: number; first: string };
async function read(k: PartitionKeys, cursor: string, ...blocked: string[]): Promise<Read> {
  const r = (await scripts.readBatch.run(link, [k.lease, k.mbox, k.seen], [LEASE, GROUP, 'node-a', 10, cursor, ...blocked])) as [number, string, string, number, string, number, string];
  return { code: r[0], entries: jsonList<[string]>(r[1]).map((e) => e[0]), dups: jsonList<[string]>(r[2]).map((e) => e[0]), complete: Number(r[3]), last: r[4], fresh: Number(r[5]), first: r[6] };
}

async function commit(k: PartitionKeys, batch: object): Promise<unknown[]> {
  const keys = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry];
  return (await scripts.commitTurn.run(link, keys, [LEASE, GROUP, Date.now(), 60_000, 1_000, JSON.stringify(batch), 1_000])) as unknown[];
}

/** Redis's count of changes since its last save: what a write moves and a read leaves alone. */
async function changes(): Promise<number> {
  const info = String(await link.call(['INFO', 'persistence']));
  return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
}

async function groupInfo(k: PartitionKeys): Promise<Record<string, unknown>> {
  const groups = (await link.call(['XINFO', 'GROUPS', k.mbox])) as unknown[];
  const g = groups[0] as Record<string, unknown> | unknown[];
  return Array.isArray(g) ? Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]])) : g;
}

async function group(k: PartitionKeys): Promise<{ delivered: string; pending: string[] }> {
  const rec = await groupInfo(k);
  const pending = (await link.call(['XPENDING', k.mbox, GROUP, '-', '+', 100])) as [string][];
  return { delivered: String(rec['last-delivered-id']), pending: pending.map((p) => p[0]) };
}

describe('a read by cursor', () => {
  it('should take new entries without writing anything, and the commit should deliver them, ack the applied and the duplicates and leave the held pending', async () => {
    const { k, add } = await partition();
    await commit(k, { s: ['m-old'] }); // processed before: its entry below comes back as a duplicate
    const ids = [await add('m1'), await add('m-old'), await add('m3', 'svc/counter/held')];
    const before = await changes();
    const r = await read(k, '0-0', 'svc/counter/held');
    expect(await changes()).toBe(before);
    expect(r).toEqual({ code: 1, entries: [ids[0]!], dups: [ids[1]!], complete: 1, last: ids[2]!, fresh: 3, first: ids[0]! });
    expect(await group(k)).toEqual({ delivered: '0-0', pending: [] });

    // The held entry is not acked: the entries go through the pending list.
    expect((await commit(k, { a: [ids[0], ids[1]], s: ['m1'], g: ['node-a', r.fresh, r.first, r.last, '0-0', false] }))[0]).toBe(ScriptCode.Ok);
    expect(await group(k)).toEqual({ delivered: ids[2]!, pending: [ids[2]!] });
    // the next read by cursor finds nothing new, and the held entry is still there for when its actor is free
    const next = await read(k, r.last);
    expect({ entries: next.entries, fresh: next.fresh }).toEqual({ entries: [ids[2]!], fresh: 0 });
  });

  it('should move the group past the entries when the commit acks them all, keeping its lag known', async () => {
    const { k, add } = await partition();
    const start = await add('m0');
    await read(k, ''); // a group read: the group now knows how many entries it has read
    await commit(k, { a: [start], s: ['m0'] });
    const ids = [await add('m1'), await add('m2')];
    const r = await read(k, start);
    expect(r.entries).toEqual(ids);
    const later = await add('m3'); // arrives between the read and the commit: not the commit's to deliver
    expect((await commit(k, { s: ['m1', 'm2'], g: ['node-a', r.fresh, r.first, r.last, start, true] }))[0]).toBe(ScriptCode.Ok);
    expect(await group(k)).toEqual({ delivered: ids[1]!, pending: [] });
    const info = await groupInfo(k);
    expect([info['entries-read'], info.lag]).toEqual([3, 1]);
    expect((await read(k, r.last)).entries).toEqual([later]);
  });

  it('should deliver and ack the entries when the group does not know how many it has read (a new group)', async () => {
    const { k, add } = await partition();
    expect((await groupInfo(k))['entries-read']).toBeNull();
    const ids = [await add('m1'), await add('m2')];
    const r = await read(k, '0-0');
    expect((await commit(k, { s: ['m1', 'm2'], g: ['node-a', r.fresh, r.first, r.last, '0-0', true] }))[0]).toBe(ScriptCode.Ok);
    expect(await group(k)).toEqual({ delivered: ids[1]!, pending: [] });
    const info = await groupInfo(k);
    expect([info['entries-read'], info.lag]).toEqual([2, 0]);
  });

  it('should write what a group read writes when it has no cursor (a new owner), and return where the group is', async () => {
    const { k, add } = await partition();
    const id = await add('m1');
    const before = await changes();
    const r = await read(k, '');
    expect(await changes()).toBeGreaterThan(before);
    expect({ entries: r.entries, fresh: r.fresh, last: r.last }).toEqual({ entries: [id], fresh: 1, last: id });
    expect(await group(k)).toEqual({ delivered: id, pending: [id] });
  });

  it('should refuse a commit whose group is not where the read left it, write nothing else, and leave the entries pending', async () => {
    const { k, add } = await partition();
    const first = await add('m1');
    const r = await read(k, '0-0');
    // The group moved behind the reader's back (here by hand; in life a Redis that lost its last second of writes).
    await link.call(['XGROUP', 'SETID', k.mbox, GROUP, '$']);
    const second = await add('m2');
    // Through the pending list: the group delivers another entry than the read took, and keeps it pending.
    const res = await commit(k, { a: [first], s: ['m1'], g: ['node-a', r.fresh, r.first, r.last, '0-0', false] });
    expect(res[0]).toBe(ScriptCode.NotDelivered);
    expect(String(res[1])).toContain(`not the 1 the read took (${first} to ${first})`);
    expect(await link.call(['ZSCORE', k.seen, 'm1'])).toBeNull();
    expect(await group(k)).toEqual({ delivered: second, pending: [second] });
    // Every entry acked: the group is not where the read started from, and nothing at all is written.
    const before = await changes();
    const set = await commit(k, { s: ['m1'], g: ['node-a', r.fresh, r.first, r.last, '0-0', true] });
    expect(set).toEqual([ScriptCode.NotDelivered, `the group is at ${second}, not at 0-0 where the read took 1 entries (${first} to ${first}) from`]);
    expect(await changes()).toBe(before);
    expect(await group(k)).toEqual({ delivered: second, pending: [second] });
  });

  it('should refuse a commit whose unmarked ids hold a processed one, and write nothing', async () => {
    const { k } = await partition();
    await commit(k, { s: ['done'] });
    const before = await changes();
    expect(await commit(k, { s: ['fresh'], ns: ['other', 'done'] })).toEqual([ScriptCode.Duplicate, 'done']);
    expect(await changes()).toBe(before);
    expect((await commit(k, { s: ['fresh'], ns: ['other'] }))[0]).toBe(ScriptCode.Ok);
    expect(await link.call(['ZSCORE', k.seen, 'other'])).toBeNull();
  });

  it('should look at every pending entry before reading new ones, even when duplicates made room in the batch', async () => {
    const { k, add } = await partition();
    const p = [await add('p1', 'svc/counter/x'), await add('p2', 'svc/counter/y'), await add('p3', 'svc/counter/z'), await add('p4', 'svc/counter/w'), await add('p5', 'svc/counter/v')];
    await link.call(['XREADGROUP', 'GROUP', GROUP, 'old-owner', 'COUNT', 10, 'STREAMS', k.mbox, '>']);
    await commit(k, { s: ['p1', 'p4'] }); // processed before: they come back as duplicates
    const fresh = await add('n', 'svc/counter/v'); // the same actor as p5, newer
    const r = (await scripts.readBatch.run(link, [k.lease, k.mbox, k.seen], [LEASE, GROUP, 'node-a', 3, ''])) as [number, string, string, number];
    const ids = jsonList<[string]>(r[1]).map((e) => e[0]);
    expect(ids).toEqual([p[1]!, p[2]!, p[4]!]);
    expect(ids).not.toContain(fresh);
  });

  it('should refuse a malformed range with nothing written', async () => {
    const { k } = await partition();
    const before = await changes();
    const malformed = [['node-a', 0, '1-0', '1-0', '0-0', true], ['node-a', 1, '1-0', '1-0', '0-0'], ['node-a', 1, '1-0', '1-0', 0, false], ['node-a', 1, '1-0', 'last', '0-0', true], 'node-a'];
    for (const g of malformed) expect(await commit(k, { g })).toEqual([ScriptCode.InvalidArgument, 'g must be [consumer, count, first id, last id, cursor, all acked]']);
    expect(await changes()).toBe(before);
  });
});

describe('a node reading by cursor', () => {
  // ARGV[5] of a read (after EVALSHA, the sha, the key count, 3 keys and 4 arguments) is its cursor.
  const cursorOf = (call: Call) => String(call.args[10] ?? '');

  const errors: string[] = [];
  beforeEach(() => {
    errors.length = 0;
  });
  async function start(name: string, faults: ScriptedFaults): Promise<{ node: MailroomNode; keys: PartitionKeys }> {
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: `${prefix}-${name}`, redis: SHARED_REDIS, partitions: 1, onError: (e) => errors.push(String(e)), wrapLink: faults.wrap });
    nodes.push(node);
    for (let i = 0; i < 5; i++) await node.ask('svc/counter/c', { type: 'inc' });
    return { node, keys: partitionKeys(`${prefix}-${name}`, 'svc', 0) };
  }

  async function sendThree(node: MailroomNode): Promise<void> {
    for (let i = 0; i < 3; i++) await node.send('svc/counter/c', { type: 'inc' });
    await waitFor('the 8 increments applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 8, 10_000);
    expect(((await node.ask('svc/counter/c', { type: 'get' })) as { reply: unknown }).reply).toBe(8);
  }

  it('should, turn after turn, take what the doorbell brought as its read and move the group past what it applied', async () => {
    const faults = new ScriptedFaults();
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: `${prefix}-steady`, redis: redis.url, partitions: 1, onError: () => {}, wrapLink: faults.wrap });
    nodes.push(node);
    await node.ask('svc/counter/s', { type: 'inc' });
    await link.call(['CONFIG', 'RESETSTAT']);
    const since = performance.now();
    for (let i = 0; i < 20; i++) await node.ask('svc/counter/s', { type: 'inc' });
    const stats = String(await link.call(['INFO', 'commandstats']));
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd.replace('|', '\\|')}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // No read script between a wake and its commit (a housekeeping tick may add one), no pending-list round.
    expect(faults.scriptCalls('readBatch', since).length).toBeLessThanOrEqual(2);
    expect(calls('xgroup|setid')).toBeGreaterThanOrEqual(20);
    expect(calls('xreadgroup') + calls('xclaim')).toBe(0);
    expect(((await node.ask('svc/counter/s', { type: 'get' })) as { reply: unknown }).reply).toBe(21);
  });

  it('should answer a message processed before as a duplicate, and apply the new ones beside it once, when the doorbell brought them', async () => {
    const faults = new ScriptedFaults();
    const { node } = await start('dupes', faults);
    await node.send('svc/counter/c', { type: 'inc' }, { id: 'again' });
    await waitFor('the first one applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 6, 5_000);
    const since = performance.now();
    // The same id again, between two new messages: the commit refuses that batch (nothing written) and the next read,
    // through the group, hands the repeat back as a duplicate — its asker answered — and the others to their actor.
    await node.send('svc/counter/c', { type: 'inc' }, { id: 'new-1' });
    const answer = node.ask('svc/counter/c', { type: 'inc' }, { id: 'again' });
    await node.send('svc/counter/c', { type: 'inc' }, { id: 'new-2' });
    expect((await answer).duplicate).toBe(true);
    await waitFor('the two new ones applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 8, 5_000);
    await Bun.sleep(100);
    expect(((await node.ask('svc/counter/c', { type: 'get' })) as { reply: unknown }).reply).toBe(8);
    expect(faults.scriptCalls('commitTurn', since).length).toBeGreaterThan(0);
  });

  it('should not fail, count or dead-letter a repeat the doorbell brought whose handler throws: it is a duplicate', async () => {
    const faults = new ScriptedFaults();
    const node = await createNode({ service: 'svc', actors: [flaky], keyPrefix: `${prefix}-repeat`, redis: SHARED_REDIS, partitions: 1, maxDeliveries: 1, onError: (e) => errors.push(String(e)), wrapLink: faults.wrap });
    nodes.push(node);
    for (let i = 0; i < 3; i++) await node.ask('svc/flaky/f', { type: 'ok' });
    await node.ask('svc/flaky/f', { type: 'ok' }, { id: 'seen-before' });
    // The same id again, on an event that throws: a duplicate, answered as one — not a failed try (with
    // maxDeliveries 1, a dead letter at once).
    const answer = await node.ask('svc/flaky/f', { type: 'boom' }, { id: 'seen-before' });
    expect(answer.duplicate).toBe(true);
    await node.ask('svc/flaky/f', { type: 'ok' });
    expect(await node.deadLetters.list()).toEqual([]);
    expect((await node.read<{ ok: number }>('svc/flaky/f'))?.context.ok).toBe(5);
  });

  it('should hold an actor’s new message behind its failed one until that one is done, however the new one was read', async () => {
    const node = await createNode({ service: 'svc', actors: [flaky], keyPrefix: `${prefix}-order`, redis: SHARED_REDIS, partitions: 1, maxDeliveries: 2, retryBaseMs: 400, onError: () => {} });
    nodes.push(node);
    for (let i = 0; i < 3; i++) await node.ask('svc/flaky/g', { type: 'ok' });
    await node.send('svc/flaky/g', { type: 'boom' });
    await Bun.sleep(50);
    await node.send('svc/flaky/g', { type: 'ok' });
    await Bun.sleep(150);
    // The boom waits for its retry (400 ms): the ok behind it must not have been applied meanwhile.
    expect((await node.read<{ ok: number }>('svc/flaky/g'))?.context.ok).toBe(3);
    await waitFor('the boom dead-lettered and the ok applied', async () => (await node.read<{ ok: number }>('svc/flaky/g'))?.context.ok === 4, 5_000);
    expect((await node.deadLetters.list()).map((l) => l.event)).toEqual([{ type: 'boom' }]);
  });

  it('should find the group set back while it was idle, and take what that handed back without a new message', async () => {
    const faults = new ScriptedFaults();
    const { node, keys } = await start('set-back', faults);
    const shared = await openLink(SHARED_REDIS, 'node-redis');
    // Set back by hand to the group's beginning (as an operator reprocessing would): every entry is handed back.
    await shared.call(['XGROUP', 'SETID', keys.mbox, 'svc', '0']);
    // Nothing is sent: within the idle block (1 s) a read finds the group elsewhere than its cursor and reads
    // through it — each entry a duplicate, acked — so the group has no lag left for admission to see as a backlog.
    await waitFor('the group caught up again', async () => {
      const rec = ((await shared.call(['XINFO', 'GROUPS', keys.mbox])) as Record<string, unknown>[])[0]!;
      return Number(rec.lag) === 0 && Number(rec.pending) === 0;
    }, 5_000);
    await shared.close();
    expect((await node.read<{ n: number }>('svc/counter/c'))?.context.n).toBe(5);
  });

  it('should apply, once, the entries of a batch whose commit wrote nothing (a version conflict)', async () => {
    const faults = new ScriptedFaults();
    const { node, keys } = await start('conflict', faults);
    // The record changed under the node (as another writer would): its next commit writes nothing, and the entries
    // that batch took are neither applied nor delivered — the next read must take them again, not start after them.
    const shared = await openLink(SHARED_REDIS, 'node-redis');
    await shared.call(['HINCRBY', keys.actor('counter', 'c'), 'v', 1]);
    await shared.close();
    const since = faults.calls.length;
    await sendThree(node);
    const after = faults.calls.slice(since);
    const conflicted = after.findIndex((c) => isScript(c, 'commitTurn'));
    expect(cursorOf(after.slice(conflicted).find((c) => isScript(c, 'readBatch'))!)).toBe('');
  });

  it('should read through the group again when its commit finds the group moved, rather than retry the same range for ever', async () => {
    const faults = new ScriptedFaults();
    const { node, keys } = await start('moved', faults);
    const shared = await openLink(SHARED_REDIS, 'node-redis');
    // Before the next commit runs, another consumer of the group takes the oldest new entry.
    let moved: Promise<unknown> | undefined;
    faults.decide = (call) => {
      if (moved || !isScript(call, 'commitTurn')) return 'run';
      moved = shared.call(['XREADGROUP', 'GROUP', 'svc', 'intruder', 'COUNT', 1, 'STREAMS', keys.mbox, '>']);
      return { afterMs: 30, then: 'run' };
    };
    const since = faults.calls.length;
    await sendThree(node);
    await moved;
    await shared.close();
    const after = faults.calls.slice(since);
    expect(errors.some((e) => e.includes('found the group elsewhere than its read had'))).toBe(true);
    const refused = after.findIndex((c) => isScript(c, 'commitTurn'));
    expect(cursorOf(after.slice(refused).find((c) => isScript(c, 'readBatch'))!)).toBe('');
  });

  it('should dead-letter once a message whose commit the script refuses, delivering what that batch read with the dead letter', async () => {
    const faults = new ScriptedFaults();
    const { node } = await start('refused', faults);
    // Every commit that would mark the culprit processed is made malformed (the script refuses it, writing
    // nothing): the node reads one entry at a time until the culprit is alone, then dead-letters it.
    faults.decide = (call) => {
      const batch = ScriptedFaults.commitBatch(call);
      if (batch && /"s":\[[^\]]*"culprit"/.test(batch)) call.args[call.args.indexOf(batch)] = batch.replace('"s":[', '"s":[1,');
      return 'run';
    };
    await node.send('svc/counter/c', { type: 'inc' }, { id: 'before' });
    await node.send('svc/counter/c', { type: 'inc', by: 100 }, { id: 'culprit' });
    await node.send('svc/counter/c', { type: 'inc' }, { id: 'after' });
    await waitFor('the culprit dead-lettered', async () => (await node.deadLetters.list()).length > 0, 10_000);
    await waitFor('the others applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 7, 10_000);
    await Bun.sleep(300);
    const letters = await node.deadLetters.list();
    expect(letters.map((l) => [l.messageId, l.error.startsWith('refused: the commit script refused the turn')])).toEqual([['culprit', true]]);
    expect(errors.filter((e) => e.includes('refused the turn')).length).toBeLessThanOrEqual(3);
  });
});
