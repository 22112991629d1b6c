/**
 * How many reads a turn costs: after a batch that took everything there was, the worker waits on the doorbell
 * instead of reading again (an empty read is a script call per turn). Counted on a scripted link around a real
 * connection to the shared Redis.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { ScriptedFaults } from '../helpers/scripted-link.ts';

const prefix = testPrefix('read-rounds');
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await cleanupPrefix(prefix);
});

describe('reads per turn', () => {
  it('one read per turn when messages come one at a time, and none waits out an idle block', async () => {
    const faults = new ScriptedFaults();
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1, onError: () => {}, wrapLink: faults.wrap });
    nodes.push(node);
    await node.ask('svc/counter/a', { type: 'inc' });
    const since = performance.now();
    const asks = 30;
    for (let i = 0; i < asks; i++) await node.ask('svc/counter/a', { type: 'inc' });
    const elapsed = performance.now() - since;
    const reads = faults.scriptCalls('readBatch', since).length;
    // Before: two reads per turn (the second one empty), 60 here.
    expect(reads).toBeLessThanOrEqual(asks + 2);
    // A wait that missed a new entry would sleep out the idle block (1 s) before reading it.
    expect(elapsed).toBeLessThan(asks * 250);
    expect(((await node.ask('svc/counter/a', { type: 'get' })) as { reply: unknown }).reply).toBe(asks + 1);
  });

  it('messages sent while a batch is being applied are all taken, in order, without a lost wake', async () => {
    const faults = new ScriptedFaults();
    // Slow every commit down a little, so that new entries keep arriving between a read and the wait after it.
    faults.decide = (call) => (ScriptedFaults.commitBatch(call) ? { afterMs: 5, then: 'run' } : 'run');
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: `${prefix}-2`, redis: SHARED_REDIS, partitions: 1, onError: () => {}, wrapLink: faults.wrap });
    nodes.push(node);
    const since = performance.now();
    for (let i = 0; i < 200; i++) {
      await node.send('svc/counter/b', { type: 'inc' });
      if (i % 20 === 0) await Bun.sleep(3);
    }
    const got = (await node.ask('svc/counter/b', { type: 'get' }, { timeoutMs: 10_000 })) as { reply: unknown };
    expect(got.reply).toBe(200);
    expect(performance.now() - since).toBeLessThan(5_000);
    await cleanupPrefix(`${prefix}-2`);
  });
});
