/**
 * The node registry's write side: one heartbeat puts a member's score (its last heartbeat, ms) in the sorted set of
 * its service and its description in a hash that expires unless renewed. Runtime nodes heartbeat from their lease
 * tick; processes that host no actors but answer HTTP (a gateway) heartbeat through `announce`, into the same keys,
 * so one registry answers both "who owns partitions" and "where can I reach this service".
 */
import { globalKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';

/** A registry member whose last heartbeat is older than this many lease TTLs is removed from the registry. */
export const REGISTRY_RETENTION_TTLS = 10;

/** Fields of a member's hash that discovery reads (the rest is free-form). */
export const RegistryField = {
  /** The advertised HTTP address, `host:port`, where callers reach the member. */
  http: 'http',
  /** The member's heartbeat TTL: it counts as gone once its last heartbeat is older than this. */
  ttlMs: 'ttlMs',
  /** When the heartbeat was written (ms since the epoch). */
  at: 'at',
} as const;

/**
 * Writes one heartbeat and drops members silent for `REGISTRY_RETENTION_TTLS` TTLs; the calls go out at once.
 *
 * @example
 * await writeHeartbeat(link, 'mr', 'gateway', 'gateway-123-ab', { http: '127.0.0.1:3000' }, 3_000, Date.now());
 */
export async function writeHeartbeat(link: RedisLink, prefix: string, service: string, memberId: string, info: Record<string, string>, ttlMs: number, now: number): Promise<void> {
  const g = globalKeys(prefix);
  const nodesKey = g.nodes(service);
  await Promise.all([
    link.call(['ZADD', nodesKey, now, memberId]),
    link.call(['HSET', g.node(memberId), ...Object.entries({ ...info, [RegistryField.ttlMs]: String(ttlMs) }).flat()]),
    link.call(['PEXPIRE', g.node(memberId), ttlMs * 3]),
    link.call(['ZREMRANGEBYSCORE', nodesKey, '-inf', `(${now - ttlMs * REGISTRY_RETENTION_TTLS}`]),
  ]);
}

/**
 * Takes a member out of the registry at once (a clean stop), rather than waiting for its heartbeat to age.
 *
 * @example
 * await removeMember(link, 'mr', 'gateway', 'gateway-123-ab');
 */
export async function removeMember(link: RedisLink, prefix: string, service: string, memberId: string): Promise<void> {
  const g = globalKeys(prefix);
  await link.call(['ZREM', g.nodes(service), memberId]).catch(() => {});
  await link.call(['DEL', g.node(memberId)]).catch(() => {});
}
