/**
 * The switch that makes the shop's breakers shared (docs/breakers.md): with `MAILROOM_SHARED_BREAKERS=1` the
 * payment service's breaker to the provider and the gateway's breakers to each service instance keep one window and
 * one state in Redis across every replica, so a trip seen by one opens the others. Off by default: a shared breaker
 * costs a Redis script per call.
 */
import { keyPrefixOf } from '../../runtime/config.ts';
import { isClusterUrl } from '../../runtime/redis/index.ts';
import { createBreakerStore, type BreakerStore } from '../../runtime/resilience/index.ts';
import { redisUrlOf } from './redis-connection.ts';

type Env = Record<string, string | undefined>;

/**
 * Whether the breakers are shared; anything but unset, `0` or `1` is refused.
 *
 * @example
 * sharedBreakersOf({ MAILROOM_SHARED_BREAKERS: '1' }); // true
 */
export function sharedBreakersOf(env: Env = process.env): boolean {
  const raw = env.MAILROOM_SHARED_BREAKERS ?? '';
  if (raw !== '' && raw !== '0' && raw !== '1') throw new Error(`MAILROOM_SHARED_BREAKERS=${raw} must be 1 (breakers share their state through Redis) or 0`);
  return raw === '1';
}

/**
 * The process's breaker store when the breakers are shared, else `undefined` (each breaker judges alone).
 *
 * @example
 * const breakerStore = openSharedBreakers('payment'); // pass to createProviderClient({ breakerStore })
 */
export function openSharedBreakers(processName: string, env: Env = process.env): BreakerStore | undefined {
  if (!sharedBreakersOf(env)) return undefined;
  const url = redisUrlOf(env);
  // The store's client speaks to one Redis; on a cluster its scripts would meet MOVED and it would judge locally forever.
  if (isClusterUrl(url)) throw new Error('MAILROOM_SHARED_BREAKERS=1 needs a single Redis (REDIS_URL): shared breakers do not run on a Redis Cluster yet');
  return createBreakerStore({ url, prefix: keyPrefixOf(env), instance: `${processName}:${process.pid}` });
}
