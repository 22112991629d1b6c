/**
 * The two places a message is recognised as processed, run as scripts against Redis: the read returns an entry whose
 * message id is in the processed set as a duplicate (acked, not applied), and the commit refuses a batch holding a
 * processed message id with nothing written. Both look a batch's ids up in one ZMSCORE.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { scripts } from '../../runtime/redis/script.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('dedupe');
const keys = partitionKeys(prefix, 'svc', 0);
const LEASE = 'node-a|1';
let link: RedisLink;
afterAll(async () => {
  await link?.close();
  await cleanupPrefix(prefix);
});

const commitKeys = () => [keys.lease, keys.mbox, keys.seen, keys.outbox, keys.events, keys.timers, keys.timerData, keys.effects, keys.tries, keys.index, keys.dlq, keys.expiry];
const commit = (batch: object) => scripts.commitTurn.run(link, commitKeys(), [LEASE, 'g', Date.now(), 60_000, 1_000, JSON.stringify(batch), 1_000]) as Promise<unknown[]>;

describe('processed messages in the scripts', () => {
  it('should refuse a commit holding a processed message id, naming it, and write nothing', async () => {
    link = await openLink(SHARED_REDIS, 'node-redis');
    await link.call(['SET', keys.lease, LEASE]);
    expect((await commit({ s: ['m1', 'm2'] }))[0]).toBe(1);
    expect(await commit({ s: ['m3', 'm2', 'm4'] })).toEqual([-4, 'm2']);
    expect(await link.call(['ZMSCORE', keys.seen, 'm1', 'm2', 'm3', 'm4'])).toEqual([expect.anything(), expect.anything(), null, null]);
  });

  it('should return entries of processed messages as duplicates, acked, and the others in stream order', async () => {
    await link.call(['XGROUP', 'CREATE', keys.mbox, 'g', '$', 'MKSTREAM']);
    const id = async (mid: string) => String(await link.call(['XADD', keys.mbox, '*', 'm', mid, 'a', 'svc/counter/x', 'e', '{"type":"inc"}']));
    const fresh1 = await id('m7');
    const dup1 = await id('m1');
    const fresh2 = await id('m8');
    const dup2 = await id('m2');
    const [code, entries, dups] = (await scripts.readBatch.run(link, [keys.lease, keys.mbox, keys.seen], [LEASE, 'g', 'node-a', 10])) as [number, string, string];
    expect(code).toBe(1);
    expect((JSON.parse(entries) as [string][]).map((e) => e[0])).toEqual([fresh1, fresh2]);
    expect((JSON.parse(dups) as [string][]).map((e) => e[0])).toEqual([dup1, dup2]);
    const pending = (await link.call(['XPENDING', keys.mbox, 'g', '-', '+', 10])) as [string][];
    expect(pending.map((p) => p[0])).toEqual([fresh1, fresh2]);
  });
});
