/**
 * Which partitions this node owns. Every tick it first renews every lease it holds (all at once, so a slow Redis
 * or many partitions cannot push a renewal past the TTL), then registers its heartbeat, then balances: a partition
 * belongs to the live node that ranks highest for it (rendezvous hashing), so nodes agree without talking and a
 * joining or dying node moves only its share. A free partition nobody live claims is taken after it has been seen
 * free twice, so no partition is left without a consumer. A lease whose renewal does not come back in time is given
 * up locally before Redis could expire it, so this node never believes it holds a lease Redis already let go.
 */
import { stableHash } from '../address.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { ScriptCode, scripts } from '../redis/script.ts';
import { removeMember, writeHeartbeat } from './registry.ts';

export type LeaseEvents = {
  acquired(partition: number, leaseValue: string, token: number, previousHolder: string | undefined): void;
  /** The lease is gone (expired, taken over, or not renewed in time): stop using it. */
  lost(partition: number): void;
  /** Asked to hand the partition to another node: stop, then call `release`. */
  yield(partition: number): void;
};

export { REGISTRY_RETENTION_TTLS } from './registry.ts';

type HeldLease = {
  value: string;
  /** When the last successful renewal (or the acquisition) was sent: Redis's TTL runs from a later instant. */
  renewedAt: number;
  /** Fires when the lease must be given up locally, unless a renewal re-arms it first. */
  watchdog: TimerHandle;
};

export class LeaseManager {
  private readonly held = new Map<number, HeldLease>();
  private readonly yielding = new Set<number>();
  private readonly seenFree = new Map<number, number>();
  private readonly lastHolder = new Map<number, string>();
  /** How long before a lease's TTL runs out (counted from its last renewal) it is given up locally. */
  readonly marginMs: number;
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
  ) {
    this.marginMs = Math.max(20, Math.floor(ttlMs / 5));
  }

  get owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  leaseValue(partition: number): string | undefined {
    return this.held.get(partition)?.value;
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

  /**
   * One round: renew every held lease (concurrently: the calls share the link's pipeline), heartbeat, then balance
   * with the free-partition reads issued concurrently too. Registry members silent for `REGISTRY_RETENTION_TTLS`
   * lease TTLs (dead nodes) are removed from the service's registry.
   */
  async tick(info: Record<string, string>): Promise<void> {
    await this.renewAll();

    const now = this.clock.now();
    const [, live] = (await Promise.all([
      writeHeartbeat(this.link, this.prefix, this.service, this.nodeId, info, this.ttlMs, now),
      this.link.call(['ZRANGEBYSCORE', globalKeys(this.prefix).nodes(this.service), now - this.ttlMs, '+inf']),
    ])) as [unknown, string[]];
    if (!live.includes(this.nodeId)) live.push(this.nodeId);
    this.liveNodes = live;

    const unheld: number[] = [];
    for (let p = 0; p < this.partitions; p++) {
      if (!this.held.has(p)) {
        unheld.push(p);
        continue;
      }
      if (this.preferred(p, live) !== this.nodeId && !this.yielding.has(p)) {
        this.yielding.add(p);
        this.events.yield(p);
      }
    }
    const holders = await Promise.all(unheld.map((p) => this.link.call(['GET', partitionKeys(this.prefix, this.service, p).lease]) as Promise<string | null>));
    const toTake: number[] = [];
    unheld.forEach((p, i) => {
      const holder = holders[i];
      if (holder) {
        this.seenFree.delete(p);
        this.lastHolder.set(p, holder.slice(0, holder.lastIndexOf('|')));
        return;
      }
      const freeTicks = (this.seenFree.get(p) ?? 0) + 1;
      this.seenFree.set(p, freeTicks);
      if (this.preferred(p, live) === this.nodeId || freeTicks >= 3) toTake.push(p);
    });
    await Promise.all(toTake.map((p) => this.acquire(p)));
  }

  /** Gives a partition back (after its worker stopped), only if `leaseValue` is still the lease held for it. */
  async release(partition: number, leaseValue: string): Promise<void> {
    if (this.held.get(partition)?.value === leaseValue) this.drop(partition);
    // Safe even when it is no longer held here: the script deletes the lease only if it still holds this value.
    const keys = partitionKeys(this.prefix, this.service, partition);
    await scripts.releaseLease.run(this.link, [keys.lease], [leaseValue]).catch(() => {});
  }

  /** Leaves the cluster: releases every lease and the registry entry. */
  async leave(): Promise<void> {
    await Promise.all([...this.held].map(([p, lease]) => this.release(p, lease.value)));
    await removeMember(this.link, this.prefix, this.service, this.nodeId);
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([partition, lease]) => {
        const sentAt = this.clock.now();
        const keys = partitionKeys(this.prefix, this.service, partition);
        let ok: boolean;
        try {
          ok = Number(await scripts.renewLease.run(this.link, [keys.lease], [lease.value, this.ttlMs])) === 1;
        } catch {
          return; // Not renewed this time; the watchdog gives it up if no renewal succeeds in time.
        }
        if (this.held.get(partition)?.value !== lease.value) return; // released or given up meanwhile
        if (ok) this.hold(partition, lease.value, sentAt);
        else this.lose(partition);
      }),
    );
  }

  private async acquire(partition: number): Promise<void> {
    const sentAt = this.clock.now();
    const keys = partitionKeys(this.prefix, this.service, partition);
    const res = (await scripts.acquireLease.run(this.link, [keys.lease, keys.fence], [this.nodeId, this.ttlMs])) as [number, string | number];
    if (res[0] !== ScriptCode.Ok) return;
    const token = Number(res[1]);
    const value = `${this.nodeId}|${token}`;
    this.hold(partition, value, sentAt);
    this.seenFree.delete(partition);
    this.events.acquired(partition, value, token, this.lastHolder.get(partition));
  }

  /** Records a lease as held since `renewedAt` and arms its watchdog. */
  private hold(partition: number, value: string, renewedAt: number): void {
    const previous = this.held.get(partition);
    if (previous) this.clock.clearTimeout(previous.watchdog);
    const due = renewedAt + this.ttlMs - this.marginMs;
    const watchdog = this.clock.setTimeout(() => this.overdue(partition, value), Math.max(0, due - this.clock.now()));
    this.held.set(partition, { value, renewedAt, watchdog });
  }

  /** No renewal came back in time: Redis may expire the lease any moment, so stop using it now. */
  private overdue(partition: number, value: string): void {
    const lease = this.held.get(partition);
    if (lease?.value !== value) return;
    if (this.clock.now() < lease.renewedAt + this.ttlMs - this.marginMs) return; // renewed meanwhile
    this.lose(partition);
    // If Redis still has it (a renewal stuck on the way), let another node take it without waiting for the TTL.
    const keys = partitionKeys(this.prefix, this.service, partition);
    void scripts.releaseLease.run(this.link, [keys.lease], [value]).catch(() => {});
  }

  private lose(partition: number): void {
    this.drop(partition);
    this.events.lost(partition);
  }

  private drop(partition: number): void {
    const lease = this.held.get(partition);
    if (lease) this.clock.clearTimeout(lease.watchdog);
    this.held.delete(partition);
    this.yielding.delete(partition);
  }
}
