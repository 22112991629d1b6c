/**
 * How many reads a turn costs: after a batch that took everything there was, the worker waits on the doorbell
 * instead of reading again (an empty read is a script call per turn). Counted on a scripted link around a real
 * connection to the shared Redis.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { counter, flaky } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { ScriptedFaults } from '../helpers/scripted-link.ts';

const prefix = testPrefix('read-rounds');
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of [prefix, `${prefix}-2`, `${prefix}-3`]) await cleanupPrefix(p);
});

describe('reads per turn', () => {
  it('one read per turn when messages come one at a time, and none waits out an idle block', async () => {
    const faults = new ScriptedFaults();
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1, onError: () => {}, wrapLink: faults.wrap });
    nodes.push(node);
    await node.ask('svc/counter/a', { type: 'inc' });
    const since = performance.now();
    const asks = 30;
    let slowest = 0;
    for (let i = 0; i < asks; i++) {
      const t = performance.now();
      await node.ask('svc/counter/a', { type: 'inc' });
      slowest = Math.max(slowest, performance.now() - t);
    }
    const reads = faults.scriptCalls('readBatch', since).length;
    // Before: two reads per turn (the second one empty), 60 here; a housekeeping tick (every second) may add one.
    expect(reads).toBeLessThanOrEqual(asks + 6);
    // A wait that missed a new entry would sleep out the idle block (1 s) before reading it.
    expect(slowest).toBeLessThan(800);
    expect(((await node.ask('svc/counter/a', { type: 'get' })) as { reply: unknown }).reply).toBe(asks + 1);
  });

  it('messages sent while a batch is being applied are all taken, in order, without a lost wake', async () => {
    const faults = new ScriptedFaults();
    // Slow every commit down a little, so that new entries keep arriving between a read and the wait after it.
    faults.decide = (call) => (ScriptedFaults.commitBatch(call) ? { afterMs: 5, then: 'run' } : 'run');
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: `${prefix}-2`, redis: SHARED_REDIS, partitions: 1, onError: () => {}, wrapLink: faults.wrap });
    nodes.push(node);
    for (let i = 0; i < 200; i++) {
      await node.send('svc/counter/b', { type: 'inc' });
      if (i % 20 === 0) await Bun.sleep(3);
    }
    // Watched by reading the record (which adds no entry that would ring the doorbell): a lost wake leaves the last
    // entries waiting out the idle block (1 s).
    const lastSent = performance.now();
    await waitFor('200 increments applied', async () => (await node.read<{ n: number }>('svc/counter/b'))?.context.n === 200, 5_000);
    expect(performance.now() - lastSent).toBeLessThan(800);
  });

  it('an actor’s message behind one that was dead-lettered in the same batch is applied at once, not after an idle block', async () => {
    const node = await createNode({ service: 'svc', actors: [flaky], keyPrefix: `${prefix}-3`, redis: SHARED_REDIS, partitions: 1, maxDeliveries: 1, onError: () => {} });
    nodes.push(node);
    await node.ask('svc/flaky/f', { type: 'ok' });
    const since = performance.now();
    await node.send('svc/flaky/f', { type: 'boom' });
    await node.send('svc/flaky/f', { type: 'ok' });
    await waitFor('the ok after the boom', async () => (await node.read<{ ok: number }>('svc/flaky/f'))?.context.ok === 2, 5_000);
    // Before the fix: 1.1 s (the ok stayed pending while the worker waited for a new entry); else well under 0.1 s.
    expect(performance.now() - since).toBeLessThan(800);
    expect((await node.deadLetters.list()).length).toBe(1);
  });
});
