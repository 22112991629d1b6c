/**
 * Where a message goes: an address's service, its partition count (agreed in Redis by the service's first node),
 * and so its mailbox stream. Only a node hosting a service records its count: a message to a service that never
 * registered is refused, rather than queued in a mailbox nobody reads under a guessed partition count.
 */
import { parseAddress, partitionOf } from '../address.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { partitionCount } from '../event-log/partitions.ts';

export const DEFAULT_PARTITIONS = 8;

/** How many addresses' mailboxes a router keeps at hand (`recentMailbox`). */
const RECENT_ADDRESSES = 10_000;

export class Router {
  private readonly counts = new Map<string, number>();
  private readonly mailboxes = new Map<string, string[]>();
  /** The mailboxes of the addresses located lately (`recentMailbox`). */
  private readonly recent = new Map<string, string>();

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {}

  /**
   * Records this service's partition count, or fails if the service already runs with another one (messages
   * would land in the wrong mailboxes).
   */
  async register(service: string, partitions: number): Promise<void> {
    const key = globalKeys(this.prefix).service(service);
    await this.link.call(['HSETNX', key, 'partitions', partitions]);
    await this.link.call(['SADD', globalKeys(this.prefix).services, service]);
    const stored = Number(await this.link.call(['HGET', key, 'partitions']));
    if (stored !== partitions) {
      throw new Error(
        `service "${service}" already runs with ${stored} partitions in this Redis (key ${key}); start this node with partitions: ${stored} (MAILROOM_PARTITIONS=${stored}), not ${partitions}`,
      );
    }
    this.counts.set(service, stored);
  }

  /**
   * The partition count of a service, from cache or Redis. Throws `UnknownServiceError` for a service no node has
   * registered (asked again next time: the service may start meanwhile).
   *
   * @example
   * const count = await router.partitions('inventory'); // 8, as its first node registered it
   */
  async partitions(service: string): Promise<number> {
    const known = this.counts.get(service);
    if (known) return known;
    const count = await partitionCount(this.link, this.prefix, service);
    this.counts.set(service, count);
    return count;
  }

  cachedPartitions(service: string): number | undefined {
    return this.counts.get(service);
  }

  /** The mailbox stream of an address whose service's partition count is known here, else undefined. */
  mailboxOf(address: string): string | undefined {
    const service = address.slice(0, address.indexOf('/'));
    const count = this.counts.get(service);
    if (count === undefined) return undefined;
    return this.mailboxNames(service, count)[partitionOf(address, count)];
  }

  private mailboxNames(service: string, count: number): string[] {
    let names = this.mailboxes.get(service);
    if (!names) this.mailboxes.set(service, (names = [...Array(count).keys()].map((p) => partitionKeys(this.prefix, service, p).mbox)));
    return names;
  }

  /**
   * The mailbox stream of an address `locate` found lately (checked, its service's count known), else undefined: a
   * send's fast path, with no promise. At most `RECENT_ADDRESSES` are kept; then the list starts over.
   */
  recentMailbox(address: string): string | undefined {
    return this.recent.get(address);
  }

  /** The mailbox stream and partition of an address. */
  async locate(address: string): Promise<{ service: string; partition: number; mbox: string }> {
    const { service } = parseAddress(address);
    const count = this.counts.get(service) ?? (await this.partitions(service));
    const partition = partitionOf(address, count);
    const mbox = this.mailboxNames(service, count)[partition]!;
    if (this.recent.size >= RECENT_ADDRESSES) this.recent.clear();
    this.recent.set(address, mbox);
    return { service, partition, mbox };
  }
}
