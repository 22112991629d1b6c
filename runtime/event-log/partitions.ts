/** How many partitions (and event-log slices) a service has: the count its first node registered — never guessed. */
import { globalKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { UnknownServiceError } from '../unknown-service-error.ts';

/** The partition count a service was registered with, or undefined when no node of it has registered yet. */
export async function registeredPartitionCount(link: Pick<RedisLink, 'call'>, prefix: string, service: string): Promise<number | undefined> {
  const stored = await link.call(['HGET', globalKeys(prefix).service(service), 'partitions']);
  return stored === null || stored === undefined ? undefined : Number(stored);
}

/** The partition count of a registered service; `UnknownServiceError` (naming the registered ones) otherwise. */
export async function partitionCount(link: Pick<RedisLink, 'call'>, prefix: string, service: string): Promise<number> {
  const count = await registeredPartitionCount(link, prefix, service);
  if (count === undefined) throw new UnknownServiceError(service, ((await link.call(['SMEMBERS', globalKeys(prefix).services])) as string[]).map(String).sort());
  return count;
}
