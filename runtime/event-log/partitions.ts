/** How many slices a service's event log has: its partition count, as its first node registered it — never guessed. */
import { globalKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { UnknownServiceError } from '../unknown-service-error.ts';

export async function partitionCount(link: RedisLink, prefix: string, service: string): Promise<number> {
  const g = globalKeys(prefix);
  const stored = await link.call(['HGET', g.service(service), 'partitions']);
  if (stored === null || stored === undefined) throw new UnknownServiceError(service, ((await link.call(['SMEMBERS', g.services])) as string[]).map(String).sort());
  return Number(stored);
}
