import { afterAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { jsonList } from '../../runtime/node/partition-reader.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('fencing');
afterAll(() => cleanupPrefix(prefix));

describe('lease fencing', () => {
  it('should refuse reads and commits from a holder whose lease was taken over', async () => {
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const k = partitionKeys(prefix, 'svc', 0);
    await link.call(['XGROUP', 'CREATE', k.mbox, 'svc', '0', 'MKSTREAM']);
    await link.call(['XADD', k.mbox, '*', 'm', 'msg-1', 'a', 'svc/counter/a', 'e', '{"type":"inc"}']);

    const a = (await scripts.acquireLease.run(link, [k.lease, k.fence], ['A', 10_000])) as [number, number];
    expect(a[0]).toBe(ScriptCode.Ok);
    const aValue = `A|${a[1]}`;
    // A reads the entry, then stalls past its lease; B takes the partition with a higher token.
    const read = (await scripts.readBatch.run(link, [k.lease, k.mbox, k.seen], [aValue, 'svc', 'A', 10])) as [number, string];
    expect(read[0]).toBe(1);
    expect(jsonList(read[1])).toHaveLength(1);
    await link.call(['DEL', k.lease]);
    const b = (await scripts.acquireLease.run(link, [k.lease, k.fence], ['B', 10_000])) as [number, number];
    expect(b[1]).toBeGreaterThan(a[1]);

    const entryId = jsonList<[string]>(read[1])[0]![0];
    const batch = JSON.stringify({ a: [entryId], s: ['msg-1'], x: [['0', '1', '{"s":{}}', 'counter/a', 'x', false]] });
    const commitArgs = [aValue, 'svc', Date.now(), 60_000, 1000, batch];
    const keys = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry, k.actor('counter', 'a')];
    const stale = (await scripts.commitTurn.run(link, keys, commitArgs)) as [number, string];
    expect(stale[0]).toBe(ScriptCode.NotLeaseHolder);
    expect(stale[1]).toBe(`B|${b[1]}`);
    // nothing of the stale turn was written
    expect(await link.call(['EXISTS', k.actor('counter', 'a')])).toBe(0);
    expect(await link.call(['ZSCORE', k.seen, 'msg-1'])).toBeNull();
    const pending = (await link.call(['XPENDING', k.mbox, 'svc'])) as [number];
    expect(Number(pending[0])).toBe(1);
    // and A can no longer read either; B gets the entry A had taken
    const staleRead = (await scripts.readBatch.run(link, [k.lease, k.mbox, k.seen], [aValue, 'svc', 'A', 10])) as [number];
    expect(staleRead[0]).toBe(ScriptCode.NotLeaseHolder);
    const bRead = jsonList<[string, string[], number]>(((await scripts.readBatch.run(link, [k.lease, k.mbox, k.seen], [`B|${b[1]}`, 'svc', 'B', 10])) as [number, string])[1]);
    expect(bRead.map((e) => e[0])).toEqual([entryId]);
    expect(bRead[0]![2]).toBe(2); // its second delivery
    // B's commit with the right token goes through
    commitArgs[0] = `B|${b[1]}`;
    const ok = (await scripts.commitTurn.run(link, keys, commitArgs)) as [number];
    expect(ok[0]).toBe(ScriptCode.Ok);
    expect(await link.call(['HGET', k.actor('counter', 'a'), 'v'])).toBe('1');
    // a commit built on a stale version is refused too
    const again = (await scripts.commitTurn.run(link, keys, commitArgs)) as [number, string, string];
    expect(again[0]).toBe(ScriptCode.VersionConflict);
    await link.close();
  });

  it('should not count a failed try for a holder whose lease was taken over', async () => {
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const k = partitionKeys(prefix, 'svc', 1);
    await link.call(['SET', k.lease, 'B|2']);
    expect(await scripts.countTry.run(link, [k.lease, k.tries], ['A|1', 'msg-1'])).toBe(ScriptCode.NotLeaseHolder);
    expect(await link.call(['HGET', k.tries, 'msg-1'])).toBeNull();
    expect(await scripts.countTry.run(link, [k.lease, k.tries], ['B|2', 'msg-1'])).toBe(1);
    expect(await scripts.countTry.run(link, [k.lease, k.tries], ['B|2', 'msg-1'])).toBe(2);
    await link.close();
  });
});
