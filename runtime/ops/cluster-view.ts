/**
 * The whole cluster as Redis holds it, read from outside any node: services and their partition counts, live nodes
 * with their heartbeat counters, partition leases, every actor (paged through the per-partition index, so 100,000+
 * of them page as cheaply as ten), one actor's committed state, the machines nodes registered, dead letters of any
 * service (with replay and discard), Redis's own health and the inspection stream's history. The control plane
 * reads the cluster through this. It builds on the node's own readers (`node/actor-index.ts`,
 * `node/dead-letter-store.ts`): the operations side depends on the core, never the other way round.
 */
import { parseAddress } from '../address.ts';
import { systemClock, type Clock } from '../clock.ts';
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import type { InspectionEvent } from '../inspection.ts';
import { globalKeys, partitionKeys } from '../keys.ts';
import type { MachineGraph } from '../machine-graph.ts';
import { pageActorIndex, readActorAt, type ActorPage, type ActorView } from '../node/actor-index.ts';
import { discardDeadLetterAt, listDeadLettersAt, replayDeadLetterAt, type DeadLetter } from '../node/dead-letter-store.ts';
import { readHistoryAt, readVersionAt, type ActorHistoryPage, type ActorSnapshotAt } from '../node/version-history.ts';
import { hashReply, openLink, type RedisLink } from '../redis/link.ts';
import { UnknownServiceError } from '../unknown-service-error.ts';
import type { TailedEvent } from './inspection-tail.ts';

export type { ActorHistoryPage, ActorPage, ActorSnapshotAt, ActorView, DeadLetter };
export { InvalidCursorError } from '../node/actor-index.ts';

/** A live node as its last heartbeat described it. */
export type NodeInfo = {
  nodeId: string;
  service: string;
  pid: number;
  partitions: number[];
  /** Messages processed by the partitions it owns now (a counter that restarts when a partition moves). */
  processed: number;
  /** Actors cached in its memory. */
  actors: number;
  /** Messages sent to each service (same kind of counter). */
  sent: Record<string, number>;
  startedAt: number;
  /** When the heartbeat was written (ms since the epoch) and how long ago that was. */
  at: number;
  lastSeenMs: number;
};

export type LeaseInfo = { service: string; partition: number; owner: string | null; token: number | null };

export type RedisHealth = { ok: boolean; latencyMs: number | null; usedMemoryBytes: number | null; version: string | null; error?: string };

// ── The view ───────────────────────────────────────────────────────────────────────────────────────────────────

export type ClusterView = ReturnType<typeof clusterViewOn>;

/**
 * Opens a view of the cluster on its own connection.
 *
 * @example
 * const view = await openClusterView({ redis: 'redis://127.0.0.1:6380' });
 * const page = await view.actors.list({ service: 'inventory', type: 'sku', limit: 50 });
 * const sku = await view.actors.read('inventory/sku/BOX-M');
 * await view.close();
 */
export async function openClusterView(options: { redis?: string; keyPrefix?: string; clock?: Clock } = {}): Promise<ClusterView> {
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  return clusterViewOn(link, options.keyPrefix ?? keyPrefixOf(), true, options.clock);
}

/** A view over an open connection (closed by `close()` only if `owns`); `clock` tells how long ago a node was seen. */
export function clusterViewOn(link: RedisLink, prefix: string, owns = false, clock: Clock = systemClock) {
  const g = globalKeys(prefix);
  const counts = new Map<string, number>();

  const services = async (): Promise<string[]> => ((await link.call(['SMEMBERS', g.services])) as string[]).map(String).sort();

  /** A service's partition count, or null for a service that never ran a node. */
  const partitionsOf = async (service: string): Promise<number | null> => {
    const known = counts.get(service);
    if (known) return known;
    const raw = await link.call(['HGET', g.service(service), 'partitions']);
    if (raw === null || raw === undefined) return null;
    counts.set(service, Number(raw));
    return Number(raw);
  };

  const needPartitions = async (service: string): Promise<number> => {
    const n = await partitionsOf(service);
    if (n === null) throw new UnknownServiceError(service, await services());
    return n;
  };

  const view = {
    keyPrefix: prefix,
    services,
    partitionsOf,

    /** Every live node of every service (a node whose heartbeat hash expired is gone). */
    async nodes(): Promise<NodeInfo[]> {
      const now = clock.now();
      const out: NodeInfo[] = [];
      for (const service of await services()) {
        const ids = ((await link.call(['ZRANGE', g.nodes(service), 0, -1])) as string[]).map(String);
        const hashes = await Promise.all(ids.map((id) => link.call(['HGETALL', g.node(id)])));
        ids.forEach((nodeId, i) => {
          const h = hashReply(hashes[i]);
          if (!h.at) return;
          const at = Number(h.at);
          out.push({
            nodeId,
            service: h.service ?? service,
            pid: Number(h.pid ?? 0),
            partitions: safeJson<number[]>(h.partitions, []),
            processed: Number(h.processed ?? 0),
            actors: Number(h.actors ?? 0),
            sent: safeJson<Record<string, number>>(h.sent, {}),
            startedAt: Number(h.startedAt ?? 0),
            at,
            lastSeenMs: Math.max(0, now - at),
          });
        });
      }
      return out;
    },

    /** Every partition of every service with the node holding its lease and the lease's fencing token. */
    async leases(): Promise<LeaseInfo[]> {
      const out: LeaseInfo[] = [];
      for (const service of await services()) {
        const n = (await partitionsOf(service)) ?? 0;
        const values = await Promise.all([...Array(n).keys()].map((p) => link.call(['GET', partitionKeys(prefix, service, p).lease])));
        values.forEach((raw, partition) => {
          const value = raw === null || raw === undefined ? null : String(raw);
          const bar = value?.lastIndexOf('|') ?? -1;
          out.push({ service, partition, owner: value && bar > 0 ? value.slice(0, bar) : value, token: value && bar > 0 ? Number(value.slice(bar + 1)) : null });
        });
      }
      return out;
    },

    /** PING round trip, memory and version; `ok: false` (with the error) when Redis does not answer. */
    async health(): Promise<RedisHealth> {
      try {
        const started = performance.now();
        await link.call(['PING']);
        const latencyMs = Math.round((performance.now() - started) * 100) / 100;
        const info = String(await link.call(['INFO', 'server']) ?? '') + String(await link.call(['INFO', 'memory']) ?? '');
        const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? null;
        const used = field('used_memory');
        return { ok: true, latencyMs, usedMemoryBytes: used === null ? null : Number(used), version: field('redis_version') };
      } catch (error) {
        return { ok: false, latencyMs: null, usedMemoryBytes: null, version: null, error: error instanceof Error ? error.message : String(error) };
      }
    },

    /** The machine graph a node of `service` registered for actor type `type`, or null. */
    async machine(service: string, type: string): Promise<MachineGraph | null> {
      const raw = await link.call(['HGET', g.service(service), `machine:${type}`]);
      return raw === null || raw === undefined ? null : (JSON.parse(String(raw)) as MachineGraph);
    },

    actors: {
      /**
       * One page of actors, `limit` at most, of one service or of all (in service order), optionally of one type
       * and with ids matching a glob. The cursor resumes exactly after the last item served; it is null only when
       * the scan is complete (a page may hold fewer than `limit` items and still have a cursor).
       */
      async list(options: { service?: string; type?: string; match?: string; cursor?: string; limit?: number; maxScans?: number } = {}): Promise<ActorPage> {
        const names = options.service === undefined ? await services() : [options.service];
        if (options.service !== undefined) await needPartitions(options.service);
        // A search that matches little among many actors stops after this many HSCAN calls and hands back a
        // cursor (with fewer items than asked), so no single request scans the whole index.
        return pageActorIndex(link, prefix, names, async (service) => (await partitionsOf(service)) ?? 0, {
          type: options.type,
          match: options.match,
          cursor: options.cursor,
          limit: options.limit ?? 50,
          maxScans: options.maxScans ?? 250,
        });
      },

      /** One actor's committed state, or null when it has never committed a turn (or its service is unknown). */
      async read(address: string): Promise<ActorView | null> {
        const { service } = parseAddress(address);
        const partitions = await partitionsOf(service);
        return partitions === null ? null : readActorAt(link, prefix, address, partitions);
      },

      /** Time travel: the actor's committed versions its type keeps, newest first (`node/version-history.ts`). */
      async history(address: string, page: { offset: number; limit: number }): Promise<ActorHistoryPage> {
        const { service } = parseAddress(address);
        return readHistoryAt(link, prefix, address, await needPartitions(service), page);
      },

      /** The actor exactly as it was right after `version` committed, or null when that version is not held. */
      async at(address: string, version: number): Promise<ActorSnapshotAt | null> {
        const { service } = parseAddress(address);
        return readVersionAt(link, prefix, address, await needPartitions(service), version);
      },
    },

    deadLetters: {
      /** The newest dead letters of one service or all, newest first, with the service named on each. */
      async list(options: { service?: string; limit?: number } = {}): Promise<(DeadLetter & { service: string })[]> {
        const limit = options.limit ?? 100;
        const names = options.service === undefined ? await services() : [options.service];
        const all: (DeadLetter & { service: string })[] = [];
        for (const service of names) {
          const letters = await listDeadLettersAt(link, prefix, service, await needPartitions(service), { count: limit });
          all.push(...letters.map((l) => ({ service, ...l })));
        }
        return all.sort((a, b) => b.failedAt - a.failedAt).slice(0, limit);
      },
      async replay(service: string, partition: number, id: string): Promise<string | null> {
        await needPartitions(service);
        return replayDeadLetterAt(link, prefix, service, partition, id);
      },
      async discard(service: string, partition: number, id: string): Promise<boolean> {
        await needPartitions(service);
        return discardDeadLetterAt(link, prefix, service, partition, id);
      },
    },

    inspection: {
      /**
       * Inspection events from the shared stream, oldest first: the `limit` after event id `from`, or without
       * `from` the latest `limit`. `keep` filters; at most `maxEntries` stream entries are read either way.
       */
      async history(options: { from?: string; limit?: number; keep?: (event: InspectionEvent) => boolean; maxEntries?: number } = {}): Promise<TailedEvent[]> {
        const limit = options.limit ?? 200;
        const keep = options.keep ?? (() => true);
        let budget = options.maxEntries ?? 5_000;
        const out: TailedEvent[] = [];
        if (options.from !== undefined) {
          const slash = options.from.indexOf('/');
          let start = slash < 0 ? options.from : options.from.slice(0, slash);
          const skip = slash < 0 ? -1 : Number(options.from.slice(slash + 1));
          let first = true;
          // An entry id alone means "after it"; `<entry>/<i>` means "after event i of that entry".
          if (slash < 0 && start !== '0' && start !== '-') start = `(${start}`;
          while (out.length < limit && budget > 0) {
            const rows = (await link.call(['XRANGE', g.inspect, start, '+', 'COUNT', Math.min(200, budget)])) as [string, string[]][];
            if (rows.length === 0) break;
            budget -= rows.length;
            for (const [id, fields] of rows) {
              parseBatch(fields).forEach((event, i) => {
                if (first && slash >= 0 && id === start && i <= skip) return;
                if (out.length < limit && keep(event)) out.push({ id: `${id}/${i}`, event });
              });
              first = false;
            }
            start = `(${rows[rows.length - 1]![0]}`;
          }
          return out;
        }
        let end = '+';
        while (out.length < limit && budget > 0) {
          const rows = (await link.call(['XREVRANGE', g.inspect, end, '-', 'COUNT', Math.min(200, budget)])) as [string, string[]][];
          if (rows.length === 0) break;
          budget -= rows.length;
          for (const [id, fields] of rows) {
            const events = parseBatch(fields);
            for (let i = events.length - 1; i >= 0 && out.length < limit; i--) if (keep(events[i]!)) out.push({ id: `${id}/${i}`, event: events[i]! });
          }
          end = `(${rows[rows.length - 1]![0]}`;
        }
        return out.reverse();
      },
    },

    async close(): Promise<void> {
      if (owns) await link.close();
    },
  };
  return view;
}

/** A service that never ran a node in this Redis. */
function parseBatch(fields: string[]): InspectionEvent[] {
  try {
    return JSON.parse(hashReply(fields).b ?? '[]') as InspectionEvent[];
  } catch {
    return [];
  }
}

function safeJson<T>(raw: string | undefined, fallback: T): T {
  try {
    return raw === undefined ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}
