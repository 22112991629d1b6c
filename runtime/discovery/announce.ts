/**
 * Registry membership for a process that hosts no actors but answers HTTP (a gateway): the same heartbeat into the
 * same registry as a runtime node's (`mr:nodes:<service>` and the member's hash), so discovery finds both alike and
 * drops either once its heartbeats stop.
 */
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { systemClock } from '../clock.ts';
import { globalKeys } from '../keys.ts';
import { openLink, type RedisLink } from '../redis/link.ts';
import { RedisClock } from '../redis/redis-clock.ts';
import { RegistryField, removeMember, writeHeartbeat } from '../node/registry.ts';

export type AnnounceOptions = {
  /** The name callers discover it by. */
  service: string;
  /** Its advertised `host:port` (see `advertisedAddress`). */
  address: string;
  redis?: string;
  keyPrefix?: string;
  /** Heartbeat TTL (default 3 s, a node's lease TTL): heartbeats go out every third of it. */
  ttlMs?: number;
  /** More fields for its entry, read at every heartbeat (e.g. requests served). */
  describe?: () => Record<string, string>;
  onError?: (error: unknown) => void;
};

export type Announcement = { memberId: string; stop(): Promise<void> };

/**
 * Joins the registry now and keeps heartbeating until `stop()`, which leaves it at once.
 *
 * @example
 * const entry = await announce({ service: 'gateway', address: advertisedAddress(3000) });
 * onShutdown(() => entry.stop());
 */
export async function announce(options: AnnounceOptions): Promise<Announcement> {
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const ttlMs = options.ttlMs ?? 3_000;
  const memberId = `${options.service}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const link: RedisLink = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  // Heartbeats are aged by other processes' clocks: write Redis's time, as nodes do (see redis-clock.ts).
  const clock = new RedisClock(systemClock, globalKeys(prefix).clock);
  await clock.sync(link);
  const startedAt = String(clock.now());
  const beat = async () => {
    await clock.sync(link).catch(() => {});
    const now = clock.now();
    const info = { ...options.describe?.(), service: options.service, pid: String(process.pid), startedAt, [RegistryField.http]: options.address, [RegistryField.at]: String(now) };
    return writeHeartbeat(link, prefix, options.service, memberId, info, ttlMs, now);
  };
  await beat();
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(beat).catch((error) => (options.onError ?? ((e) => console.error(`[mailroom ${memberId}] heartbeat: ${e instanceof Error ? e.message : String(e)}`)))(error));
  }, Math.max(100, Math.floor(ttlMs / 3)));
  let stopped = false;
  return {
    memberId,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await beating;
      await removeMember(link, prefix, options.service, memberId);
      await link.close();
    },
  };
}
