import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { assign, enqueueActions, setup } from 'xstate';
import { createNode, defineActor, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

/**
 * A turn is committed by one Lua script, which writes each kind of thing (timers, their data, …) with as few calls
 * as it can — and Lua's `unpack` stops near 8,000 values. A turn that arms or cancels thousands of timers must still
 * commit whole: the script writes long lists in parts, never fails half-way.
 */
const TIMERS = 5_000;
const alarms = defineActor(
  'alarms',
  setup({}).createMachine({
    context: { armed: 0 },
    initial: 'idle',
    states: {
      idle: {
        on: {
          arm: {
            target: 'armed',
            actions: [
              enqueueActions(({ enqueue }) => {
                for (let i = 0; i < TIMERS; i++) enqueue.raise({ type: 'ring', n: i }, { id: `alarm-${i}`, delay: 3_600_000 });
              }),
              assign({ armed: TIMERS }),
            ],
          },
        },
      },
      armed: {
        on: {
          disarm: {
            target: 'idle',
            actions: [
              enqueueActions(({ enqueue }) => {
                for (let i = 0; i < TIMERS; i++) enqueue.cancel(`alarm-${i}`);
              }),
              assign({ armed: 0 }),
            ],
          },
        },
      },
    },
  }),
);

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('a turn with thousands of writes of one kind', () => {
  it(`should commit a turn that arms ${TIMERS} timers, and one that cancels them all, whole`, async () => {
    const p = testPrefix('large-turn');
    prefixes.push(p);
    const n = await createNode({ service: 'clock', actors: [alarms], keyPrefix: p, redis: SHARED_REDIS, partitions: 1 });
    nodes.push(n);
    const redis = createClient({ url: SHARED_REDIS });
    await redis.connect();
    try {
      const keys = partitionKeys(p, 'clock', 0);
      const armed = await n.ask<{ armed: number }>('clock/alarms/a1', { type: 'arm' });
      expect([armed.state, armed.context.armed]).toEqual(['armed', TIMERS]);
      expect([await redis.zCard(keys.timers), await redis.hLen(keys.timerData)]).toEqual([TIMERS, TIMERS]);
      const disarmed = await n.ask<{ armed: number }>('clock/alarms/a1', { type: 'disarm' });
      expect([disarmed.state, disarmed.context.armed]).toEqual(['idle', 0]);
      expect([await redis.zCard(keys.timers), await redis.hLen(keys.timerData)]).toEqual([0, 0]);
    } finally {
      await redis.quit();
    }
  }, 60_000);
});
