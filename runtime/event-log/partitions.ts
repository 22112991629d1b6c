/** How many slices a service's event log has: its partition count, recorded in the service's hash. */
import { globalKeys } from '../keys.ts';
import { DEFAULT_PARTITIONS } from '../node/router.ts';
import type { RedisLink } from '../redis/link.ts';

export async function partitionCount(link: RedisLink, prefix: string, service: string): Promise<number> {
  const key = globalKeys(prefix).service(service);
  await link.call(['HSETNX', key, 'partitions', DEFAULT_PARTITIONS]);
  return Number(await link.call(['HGET', key, 'partitions']));
}
