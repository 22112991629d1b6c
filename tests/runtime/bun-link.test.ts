/**
 * The Bun `RedisClient` link (a node's default; `MAILROOM_REDIS_CLIENT=node-redis` opts out): across Redis restarts it
 * answers again once Redis is back, on one connection (Bun's client reconnects by itself and fires `onclose` only once
 * it gives up, so the link's replace-on-close path is for that case, not for an outage); and `close()` lets the
 * commands in flight finish, as node-redis's QUIT does — those sent while Redis was down too — but for no more than 2 s.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { freePort, SHARED_REDIS, startRedisServer, testPrefix, waitFor, type PrivateRedis } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-bun-link-'));
const port = freePort();
let redis: PrivateRedis | undefined;
let link: RedisLink | undefined;
afterAll(async () => {
  link?.abort();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Connections Redis holds now, the one asking included. */
async function connections(url: string): Promise<number> {
  const probe = await openLink(url, 'node-redis');
  try {
    return Number(/connected_clients:(\d+)/.exec(String(await probe.call(['INFO', 'clients'])))![1]) - 1;
  } finally {
    await probe.close();
  }
}

describe("Bun's Redis link", () => {
  it('should answer again after Redis restarts, on one connection however many outages it saw', async () => {
    redis = await startRedisServer({ port, dir, appendonly: false });
    link = await openLink(redis.url, 'bun');
    expect(await link.call(['PING'])).toBe('PONG');
    for (let outage = 0; outage < 3; outage++) {
      await redis.stop();
      // A command sent while Redis is down waits for the reconnect (Bun queues it) or fails: either settles.
      const during = link.call(['PING']).catch(() => 'failed');
      await Bun.sleep(300);
      redis = await startRedisServer({ port, dir, appendonly: false });
      expect(['PONG', 'failed']).toContain(String(await during));
      await waitFor('the link to answer again', async () => (await link!.call(['PING']).catch(() => null)) === 'PONG', 15_000, 100);
    }
    // Time for any client left behind to reconnect, as it would if it were still retrying.
    await Bun.sleep(1_500);
    expect(await connections(redis.url)).toBe(1);
  }, 60_000);

  it('should let the commands in flight finish when closed, and refuse new ones', async () => {
    const own = await openLink(SHARED_REDIS, 'bun');
    // BLPOP on a key nobody writes answers null after 0.3 s: a command still in flight when close() is called.
    const slow = own.call(['BLPOP', `${testPrefix('bun-link-close')}:nothing`, '0.3']);
    await own.close();
    expect(await slow).toBeNull();
    expect((await rejectionOf(own.call(['PING']))).message).toContain('redis link is closed');
  });

  it('should not let a Redis that does not answer hold close() past 2 s, and fail what was left in flight', async () => {
    redis ??= await startRedisServer({ port, dir, appendonly: false });
    const own = await openLink(redis.url, 'bun');
    process.kill(redis.proc.pid, 'SIGSTOP');
    try {
      const stuck = own.call(['PING']).then(() => 'answered', () => 'failed');
      const started = performance.now();
      await own.close();
      const tookMs = performance.now() - started;
      expect(tookMs).toBeGreaterThanOrEqual(1_900);
      expect(tookMs).toBeLessThan(4_000);
      expect(await stuck).toBe('failed');
    } finally {
      process.kill(redis.proc.pid, 'SIGCONT');
    }
  }, 20_000);

  it('should wait, up to 2 s, for a command sent while Redis was down, and not at all when none was', async () => {
    redis ??= await startRedisServer({ port, dir, appendonly: false });
    const waiting = await openLink(redis.url, 'bun');
    const idle = await openLink(redis.url, 'bun');
    expect([await waiting.call(['PING']), await idle.call(['PING'])]).toEqual(['PONG', 'PONG']);
    await redis.stop();
    redis = undefined;
    // Both connections see Redis go: a command sent now waits in Bun's queue for a reconnect.
    await Bun.sleep(300);
    const queued = waiting.call(['PING']).then(
      () => 'answered',
      () => 'failed',
    );
    let started = performance.now();
    await waiting.close();
    const waitedMs = performance.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(1_900);
    expect(waitedMs).toBeLessThan(4_000);
    expect(await queued).toBe('failed');
    started = performance.now();
    await idle.close();
    expect(performance.now() - started).toBeLessThan(500);
  }, 20_000);
});
