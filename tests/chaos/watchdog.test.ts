/**
 * The chaos run's liveness watchdog, on mailboxes written by hand: a partition with messages nobody consumes is
 * reported as stalled, one whose consumer keeps acking is not, and an empty one never is.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { openMonitor } from './recovery.ts';
import { watchPartitions } from './watchdog.ts';

const prefix = testPrefix('chaos-watchdog');
const redis = await openMonitor(SHARED_REDIS);
afterAll(async () => {
  await cleanupPrefix(prefix);
  await redis.quit();
});

describe('watchPartitions', () => {
  it('should report a partition whose messages wait unconsumed, and neither a consumed nor an empty one', async () => {
    const stuck = partitionKeys(prefix, 'inventory', 3).mbox;
    const busy = partitionKeys(prefix, 'order', 1).mbox;
    for (const [mbox, group] of [[stuck, 'inventory'], [busy, 'order']] as const) {
      await redis.sendCommand(['XGROUP', 'CREATE', mbox, group, '0', 'MKSTREAM']);
    }
    await redis.sendCommand(['XADD', stuck, '*', 'm', 'a']);
    await redis.sendCommand(['XADD', stuck, '*', 'm', 'b']);

    const watchdog = watchPartitions(redis, prefix, { stallMs: 1_200, everyMs: 100 });
    // The busy partition's consumer takes and acks a new message every 200 ms.
    for (let i = 0; i < 12; i++) {
      await redis.sendCommand(['XADD', busy, '*', 'm', `x${i}`]);
      const read = (await redis.sendCommand(['XREADGROUP', 'GROUP', 'order', 'c', 'COUNT', '10', 'STREAMS', busy, '>'])) as [string, [string, string[]][]][] | null;
      for (const [id] of read?.[0]?.[1] ?? []) await redis.sendCommand(['XACK', busy, 'order', id]);
      await Bun.sleep(200);
    }
    await watchdog.stop();

    expect(watchdog.stalls.map((s) => `${s.service}:${s.partition}`)).toEqual(['inventory:3']);
    expect(watchdog.stalls[0]!.waiting).toBe(2);
    expect(watchdog.stalls[0]!.ms).toBeGreaterThanOrEqual(1_200);
  }, 15_000);
});
