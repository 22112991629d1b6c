/**
 * A message to a service no node ever hosted is refused with a clear error instead of being queued in a mailbox
 * nobody reads under a guessed partition count (which then kept the real service from starting).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, readEvents, UnknownServiceError, type MailroomNode } from '../../runtime/index.ts';
import { globalKeys } from '../../runtime/keys.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const prefix = testPrefix('unknown-service');
const nodes: MailroomNode[] = [];
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await redis.quit();
  await cleanupPrefix(prefix);
});

async function start(service: string, partitions: number) {
  const node = await createNode({ service, actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions, onError: () => {} });
  nodes.push(node);
  return node;
}

describe('unknown services', () => {
  it('finding 7: should reject a tell or an ask to a service that never registered, without registering it', async () => {
    const svc = await start('svc', 2);
    const told = await svc.send('nosuch/counter/a', { type: 'inc' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(told).toBeInstanceOf(UnknownServiceError);
    const error = told as UnknownServiceError;
    expect(error.code).toBe('UNKNOWN_SERVICE');
    expect(error.status).toBe(404);
    expect(error.service).toBe('nosuch');
    expect(error.message).toContain('"nosuch"');
    expect(error.message).toContain('registered services: svc');
    expect(await rejectionOf(svc.ask('nosuch/counter/a', { type: 'get' }, { timeoutMs: 1_000 }))).toBeInstanceOf(UnknownServiceError);
    expect(await rejectionOf(readEvents({ service: 'nosuch', keyPrefix: prefix, redis: SHARED_REDIS }))).toBeInstanceOf(UnknownServiceError);
    expect(await redis.exists(globalKeys(prefix).service('nosuch'))).toBe(0);

    // The real service, with its own partition count, can still start — and then the same tell goes through.
    const late = await start('nosuch', 3);
    expect(late.partitions).toBe(3);
    await svc.send('nosuch/counter/a', { type: 'inc' });
    const res = await late.ask<{ n: number }>('nosuch/counter/a', { type: 'get' });
    expect(res.context.n).toBe(1);
  });
});
