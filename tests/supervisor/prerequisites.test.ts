import { describe, expect, it } from 'bun:test';
import { checkBun, checkPorts, checkRedis, isPortFree, versionAtLeast } from '../../runtime/supervisor/prerequisites.ts';
import { freePort } from './helpers.ts';

describe('versionAtLeast', () => {
  it('should compare versions part by part, as numbers', () => {
    expect(versionAtLeast('1.2.0', '1.2')).toBe(true);
    expect(versionAtLeast('1.10.0', '1.2')).toBe(true);
    expect(versionAtLeast('1.1.99', '1.2')).toBe(false);
    expect(versionAtLeast('1.4.5-canary.1', '1.4.5')).toBe(true);
  });
});

describe('checkBun', () => {
  it('should explain a too-old Bun in one line and accept a new one', () => {
    expect(checkBun('1.1.30', '1.2')).toBe('Bun 1.1.30 is too old: Mailroom needs Bun ≥ 1.2 (npm install -g bun)');
    expect(checkBun(Bun.version, '1.2')).toBeUndefined();
  });
});

describe('checkRedis', () => {
  it('should ask for redis-server or REDIS_URL when there is neither', async () => {
    expect(await checkRedis({ redisUrl: undefined, redisServer: null })).toBe(
      'redis-server is not on PATH and REDIS_URL is not set: install Redis ≥ 7 (e.g. apt-get install redis-server) or set REDIS_URL',
    );
  });

  it('should accept the redis-server on PATH', async () => {
    expect(await checkRedis({ redisUrl: undefined, redisServer: Bun.which('redis-server') })).toBeUndefined();
  });

  it('should refuse a redis-server older than required', async () => {
    expect(await checkRedis({ redisUrl: undefined, redisServer: Bun.which('redis-server'), minimumVersion: '99' })).toMatch(
      /^redis-server \d+\.\d+\.\d+ \(.+\) is too old: Mailroom needs Redis ≥ 99$/,
    );
  });

  it('should say when REDIS_URL does not answer', async () => {
    const port = await freePort();
    expect(await checkRedis({ redisUrl: `redis://127.0.0.1:${port}`, redisServer: null })).toStartWith(
      `REDIS_URL=redis://127.0.0.1:${port} does not answer PING (`,
    );
  });
});

describe('checkPorts', () => {
  it('should name a taken port, what it was for and who holds it', async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    try {
      const port = server.port!;
      expect(await isPortFree('127.0.0.1', port)).toBe(false);
      const problems = await checkPorts('127.0.0.1', [{ name: 'order', port, envVar: 'MAILROOM_PORT_ORDER' }]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toStartWith(`port ${port} (order) is in use by pid ${process.pid} (`);
      expect(problems[0]).toEndWith('): stop it, or set MAILROOM_PORT_ORDER or MAILROOM_PORT_OFFSET');
    } finally {
      await server.stop(true);
    }
  });

  it('should accept free ports and refuse one port given to two processes', async () => {
    const port = await freePort();
    expect(await checkPorts('127.0.0.1', [{ name: 'a', port }])).toEqual([]);
    expect(await checkPorts('127.0.0.1', [{ name: 'a', port }, { name: 'b', port }])).toEqual([
      `port ${port} is configured for both a and b: give each its own port`,
    ]);
  });
});
