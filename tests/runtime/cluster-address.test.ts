import { describe, expect, it } from 'bun:test';
import { redisClusterOf, redisUrlOf } from '../../runtime/config.ts';
import { isClusterUrl, parseClusterUrl } from '../../runtime/redis/cluster-url.ts';
import { firstKeyOf } from '../../runtime/redis/command-keys.ts';

describe('MAILROOM_REDIS_CLUSTER', () => {
  it('should leave the single-Redis address as it was when unset', () => {
    expect(redisUrlOf({})).toBe('redis://127.0.0.1:6379');
    expect(redisUrlOf({ REDIS_URL: 'redis://10.0.0.9:6380' })).toBe('redis://10.0.0.9:6380');
    expect(redisClusterOf({ MAILROOM_REDIS_CLUSTER: '' })).toBeUndefined();
  });

  it('should turn a node list into a cluster address that wins over REDIS_URL', () => {
    const url = redisUrlOf({ MAILROOM_REDIS_CLUSTER: ' 127.0.0.1:7001, 127.0.0.1:7002 ', REDIS_URL: 'redis://127.0.0.1:6380' });
    expect(url).toBe('redis-cluster://127.0.0.1:7001,127.0.0.1:7002');
    expect(isClusterUrl(url)).toBe(true);
    expect(parseClusterUrl(url)).toEqual({ nodes: ['127.0.0.1:7001', '127.0.0.1:7002'] });
  });

  it('should refuse a malformed node list with a message naming the variable', () => {
    expect(() => redisClusterOf({ MAILROOM_REDIS_CLUSTER: '127.0.0.1' })).toThrow('MAILROOM_REDIS_CLUSTER: "127.0.0.1" is not host:port');
    expect(() => redisClusterOf({ MAILROOM_REDIS_CLUSTER: 'a:70000' })).toThrow('is not host:port');
    expect(() => redisClusterOf({ MAILROOM_REDIS_CLUSTER: ',' })).toThrow('names no node');
  });

  it('should read credentials from a cluster address', () => {
    expect(parseClusterUrl('redis-cluster://app:p%40ss@10.0.0.1:7001')).toEqual({ nodes: ['10.0.0.1:7001'], username: 'app', password: 'p@ss' });
  });
});

describe('firstKeyOf', () => {
  it('should route scripts by KEYS[1], stream reads by their first stream, and keyless commands nowhere', () => {
    expect(firstKeyOf(['EVALSHA', 'abc', 2, 'mr:{o:1}:lease', 'mr:{o:1}:mbox', 'x'])).toBe('mr:{o:1}:lease');
    expect(firstKeyOf(['EVAL', 'return 1', 0])).toBeUndefined();
    expect(firstKeyOf(['XREAD', 'COUNT', 1, 'BLOCK', 5, 'STREAMS', 'mr:{o:2}:mbox', '0-0'])).toBe('mr:{o:2}:mbox');
    expect(firstKeyOf(['XINFO', 'GROUPS', 'mr:{o:3}:mbox'])).toBe('mr:{o:3}:mbox');
    expect(firstKeyOf(['XGROUP', 'CREATE', 'mr:{o:4}:events', 'g', '0'])).toBe('mr:{o:4}:events');
    expect(firstKeyOf(['SPUBLISH', 'mr:reply:n1', '{}'])).toBe('mr:reply:n1');
    expect(firstKeyOf(['HSET', 'mr:node:n1', 'a', 1])).toBe('mr:node:n1');
    for (const keyless of [['PING'], ['INFO', 'server'], ['CLIENT', 'ID'], ['PUBLISH', 'c', 'm']]) expect(firstKeyOf(keyless)).toBeUndefined();
  });
});
