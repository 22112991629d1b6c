/**
 * The mailbox trim script: it drops entries no longer needed and the consumers of nodes gone for good (nothing
 * pending, idle past a bound), and keeps every consumer that still has an entry to answer for.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink, streamReadReply } from '../../runtime/redis/link.ts';
import { scripts } from '../../runtime/redis/script.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('trim-mailbox');
const link = await openLink(SHARED_REDIS, 'node-redis');
afterAll(async () => {
  await link.close();
  await cleanupPrefix(prefix);
});

/** Reads one new entry as `consumer`; returns its stream id. */
const readOne = async (mbox: string, consumer: string) =>
  streamReadReply(await link.call(['XREADGROUP', 'GROUP', 'svc', consumer, 'COUNT', 1, 'STREAMS', mbox, '>']))[0]![1][0]![0];

const consumers = async (mbox: string) =>
  ((await link.call(['XINFO', 'CONSUMERS', mbox, 'svc'])) as unknown[])
    .map((c) => {
      // A flat [field, value, …] list or a map, depending on the client's protocol.
      if (!Array.isArray(c)) return String(c instanceof Map ? c.get('name') : (c as { name: string }).name);
      return String(c[c.indexOf('name') + 1]);
    })
    .sort();

describe('trim-mailbox-1.lua', () => {
  it('finding 8: should delete consumers with nothing pending that stayed idle past the bound, and keep the others', async () => {
    const { mbox } = partitionKeys(prefix, 'svc', 0);
    await link.call(['XGROUP', 'CREATE', mbox, 'svc', '0', 'MKSTREAM']);
    for (let i = 0; i < 3; i++) await link.call(['XADD', mbox, '*', 'm', `msg-${i}`]);
    // A dead node that had acked everything it read, and one that died holding an unacked entry.
    await link.call(['XACK', mbox, 'svc', await readOne(mbox, 'dead-done')]);
    await readOne(mbox, 'dead-pending');
    await Bun.sleep(120);
    // The live owner read a moment ago (and acked).
    await link.call(['XACK', mbox, 'svc', await readOne(mbox, 'live')]);

    const trimmed = Number(await scripts.trimMailbox.run(link, [mbox], ['svc', 100]));
    expect(await consumers(mbox)).toEqual(['dead-pending', 'live']);
    // The entry still pending with the dead node bounds the trim: it and everything after it stay.
    expect(trimmed).toBe(1);
    expect(Number(await link.call(['XLEN', mbox]))).toBe(2);

    // Called as before (no bound): keeps consumers idle for less than the default hour.
    expect(Number(await scripts.trimMailbox.run(link, [mbox], ['svc']))).toBe(0);
    expect(await consumers(mbox)).toEqual(['dead-pending', 'live']);
  });
});
