/**
 * An in-flight limit fed by a service's event log (`openInFlight`), against real Redis: while the service has not
 * registered, nothing is counted or refused and the wait is reported; once it registers, the limit holds, and an
 * event that ends a piece of work frees its place. Also the knobs it is read from.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { AdmissionRefusedError, admissionBoundsFromEnv, openInFlight, type InFlight } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('in-flight');
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();
let inFlight: InFlight | undefined;
afterAll(async () => {
  await inFlight?.close();
  await cleanupPrefix(prefix);
  await redis.quit();
});

describe('openInFlight', () => {
  it('should count nothing until the service registers, then hold, and free a place when an event ends its work', async () => {
    const errors: string[] = [];
    inFlight = openInFlight({
      service: 'late',
      targetMs: 1_000,
      max: 1,
      endedBy: (event) => (event.type === 'WorkDone' ? String(event.workId) : null),
      redis: SHARED_REDIS,
      keyPrefix: prefix,
      onError: (error) => errors.push(error instanceof Error ? error.message : String(error)),
    });
    const { limit } = inFlight;
    // The service has not registered: nothing is counted or refused, and the wait is told once.
    await waitFor('the wait to be reported', () => errors.length > 0, 5_000);
    for (const id of ['a', 'b', 'c']) expect(limit.admit(id)).toBe(false);
    expect(limit.size).toBe(0);
    expect(limit.enforced).toBe(false);
    expect(errors[0]).toContain("waits to follow late's events");

    // It registers (as its first node does): the limit holds.
    await redis.hSet(globalKeys(prefix).service('late'), 'partitions', '2');
    await waitFor('the limit to hold', () => limit.enforced, 5_000);
    expect(limit.admit('w1')).toBe(true);
    expect(() => limit.admit('w2')).toThrow(AdmissionRefusedError);

    // The event that ends w1 frees its place (others are ignored).
    const event = (type: string, workId: string) => ({ e: JSON.stringify({ id: `${type}-${workId}`, type, aggregate: `late/work/${workId}`, at: Date.now(), cause: 'm', workId }) });
    await redis.xAdd(partitionKeys(prefix, 'late', 1).events, '*', event('WorkStarted', 'w1'));
    await Bun.sleep(200);
    expect(limit.size).toBe(1);
    await redis.xAdd(partitionKeys(prefix, 'late', 1).events, '*', event('WorkDone', 'w1'));
    await waitFor('w1 to end', () => limit.size === 0, 5_000);
    expect(limit.admit('w2')).toBe(true);
    expect(errors).toHaveLength(1);
  });
});

describe('the admission knobs', () => {
  it('should read the in-flight target and maximum, allow 0 to turn the limit off, and name a bad value', () => {
    expect(admissionBoundsFromEnv({})).toMatchObject({ targetMs: 150, maxInFlight: 1_000 });
    expect(admissionBoundsFromEnv({ MAILROOM_ADMISSION_TARGET_MS: '0', MAILROOM_ADMISSION_MAX_IN_FLIGHT: '40' })).toMatchObject({ targetMs: 0, maxInFlight: 40 });
    expect(() => admissionBoundsFromEnv({ MAILROOM_ADMISSION_MAX_IN_FLIGHT: '0' })).toThrow('MAILROOM_ADMISSION_MAX_IN_FLIGHT=0 is not an integer between 1 and');
    expect(() => admissionBoundsFromEnv({ MAILROOM_ADMISSION_TARGET_MS: 'fast' })).toThrow('MAILROOM_ADMISSION_TARGET_MS=fast');
    expect(admissionBoundsFromEnv({ MAILROOM_ADMISSION: 'off' })).toBeNull();
  });
});
