/**
 * A node that wins a partition's lease must end up consuming it even when Redis fails while the partition is being
 * taken over (creating the consumer group, reading the effects to re-run): the chaos run caught a partition whose
 * takeover met a Redis restart — its worker died, the node kept renewing the lease, and the partition's mailbox sat
 * unread for minutes. Here Redis is made to fail those two steps deterministically (a key of the wrong type), then
 * healed: the node must retry and consume, not hold a dead lease.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
  await redis.quit();
});

async function startNode(prefix: string) {
  const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1, leaseTtlMs: 1_000, onError: () => {} });
  nodes.push(node);
  return node;
}

describe('partition takeover', () => {
  it('should consume the partition once Redis answers again when reading its effects failed during the takeover', async () => {
    const prefix = testPrefix('takeover-effects');
    prefixes.push(prefix);
    const keys = partitionKeys(prefix, 'svc', 0);
    // HGETALL on a string fails (WRONGTYPE): the takeover's read of the recorded effects throws.
    await redis.set(keys.effects, 'not a hash');
    const node = await startNode(prefix);
    await node.send('svc/counter/a', { type: 'inc' });
    await Bun.sleep(800);
    expect(node.owned()).toEqual([0]);
    await redis.del(keys.effects);
    const view = await waitFor('the message to be applied', () => node.read<{ n: number }>('svc/counter/a'), 5_000);
    expect(view.context.n).toBe(1);
  }, 15_000);

  it('should consume the partition once Redis answers again when creating its consumer group failed', async () => {
    const prefix = testPrefix('takeover-group');
    prefixes.push(prefix);
    const keys = partitionKeys(prefix, 'svc', 0);
    // XGROUP CREATE … MKSTREAM on a string fails (WRONGTYPE).
    await redis.set(keys.mbox, 'not a stream');
    const node = await startNode(prefix);
    await Bun.sleep(800);
    expect(node.owned()).toEqual([0]);
    await redis.del(keys.mbox);
    await node.send('svc/counter/a', { type: 'inc' });
    const view = await waitFor('the message to be applied', () => node.read<{ n: number }>('svc/counter/a'), 5_000);
    expect(view.context.n).toBe(1);
  }, 15_000);
});
