/**
 * The commit script takes each actor's record as an argument of its own (not a string inside the batch's JSON, which
 * the client had to escape and cjson to unescape): stored byte for byte, in the record and in its history entry; and
 * a call whose records do not match its actors is refused with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('commit-records');
const k = partitionKeys(prefix, 'svc', 0);
const LEASE = 'node-a|1';
let link: RedisLink;
beforeAll(async () => {
  link = await openLink(SHARED_REDIS, 'node-redis');
  await link.call(['SET', k.lease, LEASE]);
});
afterAll(async () => {
  await link?.close();
  await cleanupPrefix(prefix);
});

const base = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry];
const commit = (keys: string[], batch: object, records: string[]) =>
  scripts.commitTurn.run(link, [...base, ...keys], [LEASE, 'svc', Date.now(), 60_000, 1_000, JSON.stringify(batch), 1_000, ...records]) as Promise<unknown[]>;

describe('records as arguments of the commit script', () => {
  it('stores each record byte for byte, and completes its history entry with it', async () => {
    const a = JSON.stringify({ s: { context: { note: 'quotes " and \\ backslashes, é, \u2028, {"json":"inside"}' } }, m: 1 });
    const b = JSON.stringify({ s: { value: 'on' }, m: 1 });
    const res = await commit([k.actor('lamp', 'a'), k.actor('lamp', 'b'), k.history('lamp', 'b')], { s: ['m-1'], x: [['0', '1', 'lamp/a', 'x', false], ['0', '1', 'lamp/b', 'on', false, '{"v":1,"at":5,"c":[],"r":', 3]] }, [a, b]);
    expect(res[0]).toBe(ScriptCode.Ok);
    expect(await link.call(['HGET', k.actor('lamp', 'a'), 's'])).toBe(a);
    expect(await link.call(['HGET', k.actor('lamp', 'b'), 's'])).toBe(b);
    const [entry] = (await link.call(['LRANGE', k.history('lamp', 'b'), 0, -1])) as string[];
    expect(JSON.parse(entry!)).toEqual({ v: 1, at: 5, c: [], r: JSON.parse(b) });
    expect(await link.call(['HGET', k.index, 'lamp/b'])).toBe('on');
  });

  it('refuses records that do not match the actors, or an empty one, and writes nothing', async () => {
    const batch = { s: ['m-2'], x: [['0', '1', 'lamp/c', 'x', false]] };
    for (const records of [[], ['{}', '{}'], ['']]) {
      const res = await commit([k.actor('lamp', 'c')], batch, records);
      expect(res[0]).toBe(ScriptCode.InvalidArgument);
      expect(String(res[1])).toMatch(/record/);
    }
    expect(await link.call(['EXISTS', k.actor('lamp', 'c')])).toBe(0);
    expect(await link.call(['ZSCORE', k.seen, 'm-2'])).toBeNull();
  });
});
