/**
 * The lease manager against a real Redis, through a link wrapper that can slow down or stall commands: renewals
 * must not wait behind the balance's reads, a lease must be given up locally before Redis could expire it, a late
 * release must not free a newer lease, and dead nodes must leave the registry.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { systemClock } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { LeaseManager, REGISTRY_RETENTION_TTLS, type LeaseEvents } from '../../runtime/node/lease-manager.ts';
import { openLink, type RedisArg, type RedisLink } from '../../runtime/redis/link.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefixes: string[] = [];
const links: RedisLink[] = [];
const stops: (() => Promise<void>)[] = [];
const resumes: (() => void)[] = [];
const managers: LeaseManager[] = [];
afterAll(async () => {
  for (const resume of resumes) resume();
  for (const stop of stops) await stop();
  // Leaving disarms the lease watchdogs, which would otherwise fire after the links closed.
  for (const m of managers) await m.leave();
  for (const link of links) await link.close();
  for (const p of prefixes) await cleanupPrefix(p);
});

function prefix(name: string) {
  const p = testPrefix(name);
  prefixes.push(p);
  return p;
}

/** A link that adds latency to GET, and can hold every command until let go (a Redis that stopped answering). */
async function slowLink(getDelayMs = 0) {
  const inner = await openLink(SHARED_REDIS, 'node-redis');
  links.push(inner);
  let held: (() => void)[] | null = null;
  const link: RedisLink = {
    async call(args: RedisArg[]) {
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      if (args[0] === 'GET' && getDelayMs > 0) await Bun.sleep(getDelayMs);
      return inner.call(args);
    },
    close: () => inner.close(),
    abort: () => inner.abort(),
  };
  resumes.push(() => {
    for (const go of held ?? []) go();
    held = null;
  });
  return {
    link,
    stall: () => void (held ??= []),
    resume: () => {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
  };
}

type Recorded = { acquired: number; lost: number[] };

function manager(link: RedisLink, p: string, nodeId: string, partitions: number, ttlMs: number, extra: Partial<LeaseEvents> = {}) {
  const seen: Recorded = { acquired: 0, lost: [] };
  const m: LeaseManager = new LeaseManager(link, p, 'svc', partitions, nodeId, ttlMs, systemClock, {
    acquired: () => void seen.acquired++,
    lost: (partition) => void seen.lost.push(partition),
    // As the node does once the worker stopped (no worker here).
    yield: (partition) => void m.release(partition, m.leaseValue(partition)!),
    ...extra,
  });
  managers.push(m);
  return { m, seen };
}

/** Ticks like a node: every TTL/3, each tick chained after the previous one. */
function drive(m: LeaseManager, ttlMs: number) {
  let ticking: Promise<void> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    ticking = ticking.then(() => (stopped ? undefined : m.tick({ service: 'svc' }))).catch(() => {});
  }, Math.floor(ttlMs / 3));
  const stop = async () => {
    stopped = true;
    clearInterval(timer);
    await ticking;
  };
  stops.push(stop);
  return stop;
}

describe('LeaseManager', () => {
  it('finding 10: should renew held leases before the balance reads, so a node keeps its 64-partition share over a slow link', async () => {
    const p = prefix('lease-slow-get');
    const ttl = 1_000;
    const fast = manager((await slowLink()).link, p, 'node-b', 64, ttl);
    await fast.m.tick({ service: 'svc' });
    expect(fast.m.owned).toHaveLength(64);
    // Every GET of node A takes 60 ms: 32 of them in a row would take about twice the TTL.
    const slow = manager((await slowLink(60)).link, p, 'node-a', 64, ttl);
    const stopA = drive(slow.m, ttl);
    const stopB = drive(fast.m, ttl);
    const share = [...Array(64).keys()].filter((q) => slow.m.preferred(q, ['node-a', 'node-b']) === 'node-a');
    await waitFor('node A to take a partition', () => slow.seen.acquired > 0, 10_000);
    await Bun.sleep(5 * ttl);
    // Not one lease lost on the way: the renewals never waited behind the reads of the partitions B holds.
    expect(slow.seen.lost).toEqual([]);
    expect(slow.m.owned).toEqual(share);
    const check = await openLink(SHARED_REDIS, 'node-redis');
    links.push(check);
    for (const q of share) expect(await check.call(['GET', partitionKeys(p, 'svc', q).lease])).toBe(slow.m.leaseValue(q)!);
    await Promise.all([stopA(), stopB()]);
  }, 30_000);

  it('finding 10: should give a lease up locally before its TTL runs out when renewals stall', async () => {
    const p = prefix('lease-stall');
    const ttl = 900;
    const { link, stall, resume } = await slowLink();
    const check = await openLink(SHARED_REDIS, 'node-redis');
    links.push(check);
    const lease = partitionKeys(p, 'svc', 0).lease;
    let pttlWhenLost: number | undefined;
    const { m } = manager(link, p, 'node-a', 1, ttl, {
      lost: () => void check.call(['PTTL', lease]).then((ms) => (pttlWhenLost ??= Number(ms))),
    });
    await m.tick({ service: 'svc' });
    expect(m.owned).toEqual([0]);
    const stop = drive(m, ttl);
    stall();
    await waitFor('the lease to be given up locally', () => pttlWhenLost !== undefined, 3 * ttl);
    // Redis had not let it go yet: the node stopped using it first.
    expect(pttlWhenLost!).toBeGreaterThan(0);
    expect(m.owned).toEqual([]);
    resume();
    await stop();
  }, 15_000);

  it('finding 1: should not free a newer lease when a late release names the lost one', async () => {
    const p = prefix('lease-late-release');
    const { link } = await slowLink();
    const { m, seen } = manager(link, p, 'node-a', 1, 5_000);
    await m.tick({ service: 'svc' });
    const first = m.leaseValue(0)!;
    expect(first).toBeDefined();
    // The lease expires (the node was paused); the next tick finds it gone, and a later one takes it again.
    await link.call(['DEL', partitionKeys(p, 'svc', 0).lease]);
    await m.tick({ service: 'svc' });
    expect(seen.lost).toEqual([0]);
    await waitFor('the partition to be re-acquired', async () => (await m.tick({ service: 'svc' }), m.leaseValue(0)));
    const second = m.leaseValue(0)!;
    expect(second).not.toBe(first);
    // The first lease's worker stops only now and gives "its" lease back.
    await m.release(0, first);
    expect(m.owned).toEqual([0]);
    expect(m.leaseValue(0)).toBe(second);
    expect(await link.call(['GET', partitionKeys(p, 'svc', 0).lease])).toBe(second);
    await m.release(0, second);
    expect(m.owned).toEqual([]);
    expect(await link.call(['GET', partitionKeys(p, 'svc', 0).lease])).toBeNull();
  });

  it(`finding 8: should remove registry members whose heartbeat is older than ${REGISTRY_RETENTION_TTLS} lease TTLs`, async () => {
    const p = prefix('lease-registry');
    const ttl = 1_000;
    const { link } = await slowLink();
    const nodes = globalKeys(p).nodes('svc');
    const now = Date.now();
    await link.call(['ZADD', nodes, now - (REGISTRY_RETENTION_TTLS + 1) * ttl, 'long-dead', now - 5 * ttl, 'recently-dead']);
    const { m } = manager(link, p, 'node-a', 1, ttl);
    await m.tick({ service: 'svc' });
    expect(((await link.call(['ZRANGE', nodes, 0, -1])) as string[]).sort()).toEqual(['node-a', 'recently-dead']);
    // Only live ones (heartbeat within one TTL) share the partitions.
    expect(m.liveNodes).toEqual(['node-a']);
    await m.leave();
  });
});
