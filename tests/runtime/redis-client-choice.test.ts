/**
 * Which client a node's own Redis connections use (`MAILROOM_REDIS_CLIENT`): Bun's `RedisClient` unless node-redis is
 * asked for; a misspelt value stops the node at start instead of quietly picking one.
 */
import { describe, expect, it } from 'bun:test';
import { redisClientOf } from '../../runtime/config.ts';

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
