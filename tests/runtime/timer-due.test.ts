/**
 * A timer is due its delay after the step that armed it, never before: an actor whose turn comes late in a batch (behind
 * a slow turn) must not have its `after` fire early. Until session 16 the due time was counted from the batch's start.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { entryFields, newMessageId } from '../../runtime/node/envelope.ts';
import { appendTogether, cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('timer-due');
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await cleanupPrefix(prefix);
});

const DELAY_MS = 100;
const SLOW_MS = 60;

/** Spends `SLOW_MS` of the batch in its step. */
const slow = defineActor(
  'slow',
  setup({ types: {} as { context: Record<string, never>; events: { type: 'work' } } }).createMachine({
    context: {},
    on: {
      work: {
        actions: () => {
          const until = performance.now() + SLOW_MS;
          while (performance.now() < until);
        },
      },
    },
  }),
);

/** Notes when it armed its `after` and when that fired. */
const alarmed = defineActor(
  'alarmed',
  setup({ types: {} as { context: { armedAt: number; firedAt: number }; events: { type: 'arm' } } }).createMachine({
    context: { armedAt: 0, firedAt: 0 },
    initial: 'idle',
    states: {
      idle: { on: { arm: { target: 'waiting', actions: assign({ armedAt: () => performance.timeOrigin + performance.now() }) } } },
      waiting: { after: { [DELAY_MS]: { target: 'fired', actions: assign({ firedAt: () => performance.timeOrigin + performance.now() }) } } },
      fired: {},
    },
  }),
);

describe('timer due times', () => {
  it('fire no sooner than their delay after the step that armed them, however late in its batch that step ran', async () => {
    const node = await createNode({ service: 'due', actors: [slow, alarmed], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1, onError: () => {} });
    nodes.push(node);
    await node.ask('due/slow/s', { type: 'work' });
    // One write, so that one batch takes both: the slow turn first, then the one that arms the timer.
    const entry = (address: string, event: object) => entryFields({ id: newMessageId(), address, event });
    await appendTogether(partitionKeys(prefix, 'due', 0).mbox, [entry('due/slow/s', { type: 'work' }), entry('due/alarmed/a', { type: 'arm' })]);
    const fired = await waitFor('the timer to fire', async () => {
      const { context } = await node.ask<{ armedAt: number; firedAt: number }>('due/alarmed/a', { type: 'noop' } as never);
      return context.firedAt ? context : null;
    });
    // Counted from the batch's start, it fired ~SLOW_MS early.
    expect(fired.firedAt - fired.armedAt).toBeGreaterThanOrEqual(DELAY_MS);
  });
});
