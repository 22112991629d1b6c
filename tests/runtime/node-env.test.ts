/**
 * A node's settings from the environment: which client its own Redis connections use (`MAILROOM_REDIS_CLIENT`: Bun's
 * `RedisClient` unless node-redis is asked for) and its service's partition count (`MAILROOM_PARTITIONS`). A misspelt
 * value stops the node at start instead of quietly picking something.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createNode, type InspectionEvent, type NodeEvent } from '../../runtime/index.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';
import { partitionsOf, redisClientOf } from '../../runtime/config.ts';

describe('MAILROOM_REDIS_CLIENT', () => {
  it("should default to Bun's client and take node-redis when asked", () => {
    expect(redisClientOf({})).toBe('bun');
    expect(redisClientOf({ MAILROOM_REDIS_CLIENT: '' })).toBe('bun');
    expect(redisClientOf({ MAILROOM_REDIS_CLIENT: 'bun' })).toBe('bun');
    expect(redisClientOf({ MAILROOM_REDIS_CLIENT: 'node-redis' })).toBe('node-redis');
  });

  it('should refuse any other value, naming the variable and the choices', () => {
    expect(() => redisClientOf({ MAILROOM_REDIS_CLIENT: 'ioredis' })).toThrow('MAILROOM_REDIS_CLIENT=ioredis is not a client: use bun (the default) or node-redis');
  });
});

describe('MAILROOM_PARTITIONS', () => {
  it('should give the count asked for, and nothing when unset (the runtime default then)', () => {
    expect(partitionsOf({})).toBeUndefined();
    expect(partitionsOf({ MAILROOM_PARTITIONS: '' })).toBeUndefined();
    expect(partitionsOf({ MAILROOM_PARTITIONS: '2' })).toBe(2);
    expect(partitionsOf({ MAILROOM_PARTITIONS: '1024' })).toBe(1024);
  });

  it('should refuse what is not a count from 1 to 1024, naming the variable', () => {
    for (const raw of ['0', '1025', '2.5', 'two', '-1']) {
      expect(() => partitionsOf({ MAILROOM_PARTITIONS: raw })).toThrow(`MAILROOM_PARTITIONS=${raw} is not a partition count: use a whole number from 1 to 1024`);
    }
  });
});

describe('a node started with MAILROOM_PARTITIONS', () => {
  const prefix = testPrefix('env-partitions');
  afterAll(() => cleanupPrefix(prefix));

  it('should run its service with that many partitions, and a later node with another count should be told which', async () => {
    const before = process.env.MAILROOM_PARTITIONS;
    process.env.MAILROOM_PARTITIONS = '2';
    try {
      const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, onError: () => {} });
      try {
        expect(node.partitions).toBe(2);
        await node.send('svc/counter/a', { type: 'inc' });
        expect((await node.ask<{ n: number }>('svc/counter/a', { type: 'get' })).context.n).toBe(1);
        const other = await rejectionOf(
          createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4, onError: () => {} }).then(async (wrong) => {
            await wrong.stop();
            return wrong;
          }),
        );
        expect(other.message).toContain('already runs with 2 partitions in this Redis');
        expect(other.message).toContain('(MAILROOM_PARTITIONS=2), not 4');
      } finally {
        await node.stop();
      }
    } finally {
      if (before === undefined) delete process.env.MAILROOM_PARTITIONS;
      else process.env.MAILROOM_PARTITIONS = before;
    }
  });
});

describe('a node not told a partition count', () => {
  const prefix = testPrefix('adopt-partitions');
  afterAll(() => cleanupPrefix(prefix));

  it('should take the count its service already runs with over its default, so an upgrade with a new default starts', async () => {
    const seen: InspectionEvent[] = [];
    const inspect = (e: InspectionEvent) => void seen.push(e);
    const first = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4, onError: () => {}, inspect });
    await first.stop();
    const later = await createNode({ service: 'svc', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, defaultPartitions: 2, onError: () => {}, inspect });
    try {
      expect(later.partitions).toBe(4);
      // and says so: nothing else would tell that the service runs with a count other than this node's default
      const joined = seen.filter((e): e is NodeEvent => e.type === 'node.joined');
      expect(joined.map((e) => [e.node, e.partitions, e.partitionsFrom, e.defaultPartitions])).toEqual([
        [first.nodeId, 4, 'asked', undefined],
        [later.nodeId, 4, 'registered', 2],
      ]);
      await later.send('svc/counter/b', { type: 'inc' });
      expect((await later.ask<{ n: number }>('svc/counter/b', { type: 'get' })).context.n).toBe(1);
    } finally {
      await later.stop();
    }
  });

  it('should take its default for a service no node has registered', async () => {
    const fresh = testPrefix('default-partitions');
    const seen: InspectionEvent[] = [];
    const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: fresh, redis: SHARED_REDIS, defaultPartitions: 2, onError: () => {}, inspect: (e) => void seen.push(e) });
    try {
      expect(node.partitions).toBe(2);
      expect(seen.find((e) => e.type === 'node.joined')).toMatchObject({ partitions: 2, partitionsFrom: 'default' });
    } finally {
      await node.stop();
      await cleanupPrefix(fresh);
    }
  });
});
