/**
 * The backlog sampler stops reading Redis while nobody asks and starts again on the next question. It used to stop
 * for good instead: the wake-up's first sample still saw every service idle and cleared the timer, so after any
 * quiet spell of 10 s every admission check of the process refused with 503 "could not be read" from then on.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { BacklogSampler } from '../../runtime/admission/backlog-sampler.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('backlog-sampler');
const link = await openLink(SHARED_REDIS, 'node-redis');
afterAll(async () => {
  await link.close();
  await cleanupPrefix(prefix);
});

describe('BacklogSampler', () => {
  it('should sample again when asked after an idle spell, not stay stopped', async () => {
    const sampler = new BacklogSampler({ link, keyPrefix: prefix, sampleMs: 10, idleMs: 100, partitionsOf: async () => 1 });
    try {
      await waitFor('a first reading', () => sampler.reading('svc').backlog !== null);
      await Bun.sleep(300); // idle: nobody asks, the timer stops
      const asked = sampler.reading('svc');
      expect(asked.backlog).toBeNull(); // what it knew before the pause is forgotten
      await waitFor('a fresh reading after the pause', () => sampler.reading('svc').backlog !== null, 2_000);
      // And it keeps sampling: the last good reading stays recent.
      await Bun.sleep(200);
      expect(sampler.reading('svc').sinceGoodMs).toBeLessThan(150);
    } finally {
      sampler.stop();
    }
  });
});
