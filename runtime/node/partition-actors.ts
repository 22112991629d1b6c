/**
 * The live actors of one partition, restored from their committed records on first use and evicted when idle,
 * expired, or when the partition's in-memory state can no longer be trusted (after any rejected or unknown commit).
 * A record written by an older version of its type is migrated on the way in (see `restoreRecord`).
 */
import type { Clock } from '../clock.ts';
import type { ActorDefinition } from '../actor/define-actor.ts';
import { HostedActor, type ActorRecord } from '../actor/hosted-actor.ts';
import { restoreRecord } from '../actor/migration.ts';
import type { InspectionEvent } from '../inspection.ts';
import { parseAddress, partitionOf } from '../address.ts';
import type { PartitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import type { KnownActors } from './known-actors.ts';
import type { Router } from './router.ts';

export type ActorsContext = {
  service: string;
  partition: number;
  keys: PartitionKeys;
  defs: ReadonlyMap<string, ActorDefinition>;
  router: Router;
  link: RedisLink;
  inspect?: (event: InspectionEvent) => void;
  clock: Clock;
  /** Which actors may have a record: one that certainly has none is created without reading it. */
  known?: KnownActors;
};

/** What `HMGET v s` answers for an actor with no record. */
const NO_RECORD: (string | null)[] = [null, null];

export class PartitionActors {
  private readonly live = new Map<string, HostedActor>();

  constructor(private readonly ctx: ActorsContext) {}

  get size(): number {
    return this.live.size;
  }

  get(address: string): HostedActor | undefined {
    return this.live.get(address);
  }

  /**
   * Restores the actors of these addresses that are not in memory. One whose stored record can't be restored is
   * reported through `unreadable` (its messages fail, one by one; a `RecordNotRestorable` or `RecordFromNewerVersion`
   * says the version is why) instead of failing the batch. An actor that certainly has no record (`known`) costs no
   * read: a new actor's first message is applied at once.
   */
  async load(addresses: Iterable<string>, now: number, unreadable?: Map<string, unknown>): Promise<void> {
    const missing = new Map<string, { type: string; id: string; key: string }>();
    for (const address of addresses) {
      if (this.live.has(address) || missing.has(address)) continue;
      let parsed;
      try {
        parsed = parseAddress(address);
      } catch {
        continue;
      }
      if (parsed.service !== this.ctx.service || !this.ctx.defs.has(parsed.type) || this.ownerOf(address) !== this.ctx.partition) continue;
      missing.set(address, { type: parsed.type, id: parsed.id, key: this.ctx.keys.actor(parsed.type, parsed.id) });
    }
    if (missing.size === 0) return;
    const list = [...missing];
    const known = this.ctx.known;
    const rows = (await Promise.all(
      list.map(([, m]) => (known && !known.mayExist(`${m.type}/${m.id}`) ? NO_RECORD : this.ctx.link.call(['HMGET', m.key, 'v', 's']))),
    )) as (string | null)[][];
    for (let i = 0; i < list.length; i++) {
      const [address, m] = list[i]!;
      const [v, s] = rows[i]!;
      const def = this.ctx.defs.get(m.type)!;
      let stored: ActorRecord | null;
      try {
        stored = s ? (JSON.parse(s) as ActorRecord) : null;
      } catch (error) {
        unreadable?.set(address, new Error(`its stored record can't be restored: it is not JSON (${(error as Error).message})`));
        continue;
      }
      let restored;
      try {
        restored = stored ? restoreRecord(def, stored) : null;
      } catch (error) {
        unreadable?.set(address, error);
        continue;
      }
      try {
        const actor = new HostedActor(def, address, m.id, restored?.record ?? null, v ? Number(v) : 0, restored?.timersToArm);
        actor.lastUsed = now;
        actor.unverified = rows[i] === NO_RECORD;
        // A migrated record's index line still names the old state: the next commit rewrites it.
        if (restored && !restored.migratedFrom) actor.indexedState = actor.state;
        this.live.set(address, actor);
        if (restored?.migratedFrom) {
          this.ctx.inspect?.({ type: 'actor.migrated', at: this.ctx.clock.now(), source: this.ctx.service, actor: address, actorType: def.type, fromVersion: restored.migratedFrom, toVersion: def.version, state: actor.state });
        }
      } catch (error) {
        unreadable?.set(address, new Error(`its stored record can't be restored: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
  }

  /**
   * Whatever is known, the actor's record may exist: its next activation reads it, and a live one taken without a
   * read and not committed since is dropped, so that it is read. Called before a message that implies a record (a
   * repeat, a timer's firing, an effect's outcome) and for a message that failed on a state nothing checked.
   */
  mayExist(address: string): void {
    this.ctx.known?.add(address.slice(address.indexOf('/') + 1));
    if (this.live.get(address)?.unverified) this.evict(address);
  }

  /** Evicts actors idle for longer than their type allows (passivation); their state stays in Redis. */
  passivate(now: number): void {
    for (const [address, actor] of this.live) {
      if (actor.lastUsed < now - actor.def.options.passivateAfterMs) this.evict(address);
    }
  }

  evict(address: string): void {
    this.live.delete(address);
  }

  clear(): void {
    this.live.clear();
  }

  /**
   * The partition an address of this service belongs to. An entry written into another partition's mailbox must not
   * be applied here: the actor would get a second record under this partition's keys, apart from its real one.
   */
  ownerOf(address: string): number {
    const partitions = this.ctx.router.cachedPartitions(this.ctx.service);
    return partitions === undefined ? this.ctx.partition : partitionOf(address, partitions);
  }

  /** Why a message can't be delivered here, for its dead letter. */
  whyUnroutable(address: string): string {
    try {
      const p = parseAddress(address);
      if (p.service !== this.ctx.service) return `address ${address} belongs to service "${p.service}", not "${this.ctx.service}"`;
      const owner = this.ownerOf(address);
      if (this.ctx.defs.has(p.type) && owner !== this.ctx.partition) return `address ${address} belongs to partition ${owner} of service "${this.ctx.service}", not ${this.ctx.partition}`;
      return `service "${this.ctx.service}" has no actor type "${p.type}" (it has: ${[...this.ctx.defs.keys()].join(', ')})`;
    } catch (error) {
      return (error as Error).message;
    }
  }
}
