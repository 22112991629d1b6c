/**
 * Which partitions this node owns. Every tick it renews the leases it holds, registers its heartbeat, and
 * balances: a partition belongs to the live node that ranks highest for it (rendezvous hashing), so nodes agree
 * without talking and a joining or dying node moves only its share. A free partition nobody live claims is taken
 * after it has been seen free twice, so no partition is left without a consumer.
 */
import { stableHash } from '../address.ts';
import type { Clock } from '../clock.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { ScriptCode, scripts } from '../redis/script.ts';

export type LeaseEvents = {
  acquired(partition: number, leaseValue: string, token: number, previousHolder: string | undefined): void;
  /** The lease is gone (expired or taken over): stop using it. */
  lost(partition: number): void;
  /** Asked to hand the partition to another node: stop, then call `release`. */
  yield(partition: number): void;
};

export class LeaseManager {
  private readonly held = new Map<number, string>();
  private readonly yielding = new Set<number>();
  private readonly seenFree = new Map<number, number>();
  private readonly lastHolder = new Map<number, string>();
  liveNodes: string[] = [];

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly service: string,
    private readonly partitions: number,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly events: LeaseEvents,
  ) {}

  get owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  leaseValue(partition: number): string | undefined {
    return this.held.get(partition);
  }

  /** The live node that should own a partition. */
  preferred(partition: number, nodes: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestScore = -1;
    for (const node of nodes) {
      const score = stableHash(`${node}#${partition}`);
      if (score > bestScore || (score === bestScore && node < best!)) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }

  /** One round: heartbeat, renew, balance. */
  async tick(info: Record<string, string>): Promise<void> {
    const g = globalKeys(this.prefix);
    const now = this.clock.now();
    await this.link.call(['ZADD', g.nodes(this.service), now, this.nodeId]);
    await this.link.call(['HSET', g.node(this.nodeId), ...Object.entries(info).flat()]);
    await this.link.call(['PEXPIRE', g.node(this.nodeId), this.ttlMs * 3]);
    const live = (await this.link.call(['ZRANGEBYSCORE', g.nodes(this.service), now - this.ttlMs, '+inf'])) as string[];
    if (!live.includes(this.nodeId)) live.push(this.nodeId);
    this.liveNodes = live;

    for (const [partition, value] of [...this.held]) {
      const keys = partitionKeys(this.prefix, this.service, partition);
      const ok = Number(await scripts.renewLease.run(this.link, [keys.lease], [value, this.ttlMs]));
      if (!ok) {
        this.held.delete(partition);
        this.yielding.delete(partition);
        this.events.lost(partition);
      }
    }

    for (let p = 0; p < this.partitions; p++) {
      const mine = this.preferred(p, live) === this.nodeId;
      if (this.held.has(p)) {
        if (!mine && !this.yielding.has(p)) {
          this.yielding.add(p);
          this.events.yield(p);
        }
        continue;
      }
      const keys = partitionKeys(this.prefix, this.service, p);
      const holder = (await this.link.call(['GET', keys.lease])) as string | null;
      if (holder) {
        this.seenFree.delete(p);
        this.lastHolder.set(p, holder.slice(0, holder.lastIndexOf('|')));
        continue;
      }
      const freeTicks = (this.seenFree.get(p) ?? 0) + 1;
      this.seenFree.set(p, freeTicks);
      if (!mine && freeTicks < 3) continue;
      const res = (await scripts.acquireLease.run(this.link, [keys.lease, keys.fence], [this.nodeId, this.ttlMs])) as [number, string | number];
      if (res[0] !== ScriptCode.Ok) continue;
      const token = Number(res[1]);
      const value = `${this.nodeId}|${token}`;
      this.held.set(p, value);
      this.seenFree.delete(p);
      this.events.acquired(p, value, token, this.lastHolder.get(p));
    }
  }

  /** Gives a partition back (after its worker stopped). */
  async release(partition: number): Promise<void> {
    const value = this.held.get(partition);
    this.held.delete(partition);
    this.yielding.delete(partition);
    if (!value) return;
    const keys = partitionKeys(this.prefix, this.service, partition);
    await scripts.releaseLease.run(this.link, [keys.lease], [value]).catch(() => {});
  }

  /** Leaves the cluster: releases every lease and the registry entry. */
  async leave(): Promise<void> {
    for (const p of [...this.held.keys()]) await this.release(p);
    const g = globalKeys(this.prefix);
    await this.link.call(['ZREM', g.nodes(this.service), this.nodeId]).catch(() => {});
    await this.link.call(['DEL', g.node(this.nodeId)]).catch(() => {});
  }
}
