/**
 * Everything the control plane's routes work with, opened once per process: views of the cluster and of the
 * supervisor's process table, the chaos rules, an inspection publisher (for `chaos.*` events), the upstream
 * processes' origins, the load generator, and what it keeps from following the inspection stream (each actor's
 * recent transitions, the saga counters), from sampling node heartbeats (rates) and from scraping every process's
 * `/metrics` (the Overview's charts).
 */
import { openChaosStore, openClusterView, tailInspection, type ChaosStore, type ClusterView } from '../../runtime/ops/index.ts';
import { openInspector, type Inspector } from '../../runtime/index.ts';
import { openProcessTable, type ProcessTable } from '../../runtime/supervisor/index.ts';
import { openDiscovery, type Discovery } from '../../runtime/discovery/index.ts';
import { isClusterUrl } from '../../runtime/redis/index.ts';
import { createBreakerStore, type BreakerStore } from '../../runtime/resilience/index.ts';
import { ActorHistory } from './actor-history.ts';
import { LoadGenerator } from './load-generator.ts';
import { OverviewScraper, type ScrapeTarget } from './overview-series.ts';
import { RateSampler } from './rate-sampler.ts';
import { SagaStats } from './saga-stats.ts';
import { TraceStore } from './trace-store.ts';
import type { Origins } from './upstream.ts';

export type ControlContext = {
  redisUrl: string;
  /** The system's service credential, sent on every call to another process (exposed processes want it). */
  serviceToken?: string;
  keyPrefix: string;
  view: ClusterView;
  table: ProcessTable;
  chaos: ChaosStore;
  inspect: Inspector;
  /** One live instance of a process (round robin over those the registry lists, else the fixed origin). */
  origins: Origins;
  /** The registry's live instances of every service and gateway, for the topology. */
  discovery: Discovery;
  /** Reads shared breakers' records and instances (none on a Redis Cluster: the store speaks to one Redis). */
  breakerStore: BreakerStore | undefined;
  /** The services (and gateway) whose instances the topology lists. */
  watched: readonly string[];
  load: LoadGenerator;
  history: ActorHistory;
  sagas: SagaStats;
  rates: RateSampler;
  /** The Overview's charts, from scrapes of every process's `/metrics`. */
  overview: OverviewScraper;
  /** Recent traces the processes exported here (when tracing is on). */
  traces: TraceStore;
  /** Live SSE connections, and how many are allowed at once. */
  streams: { open: number; max: number };
  /** How often an SSE stream sends a heartbeat comment. */
  heartbeatMs: number;
  close(): Promise<void>;
};

/** How far back the stats and transition history start when the control plane starts. */
const LOOK_BACK_MS = 60 * 60_000;

/**
 * @example
 * const ctx = await openControlContext({ redis: redisUrlOf(), keyPrefix: keyPrefixOf(), origins: (name) => originOf(name) });
 * startProcess({ name: 'control', …, routes: controlRoutes(ctx, { token, origins: panelOrigins() }) });
 */
export async function openControlContext(options: {
  redis: string;
  keyPrefix: string;
  /** Where a process is when the registry lists no instance of it (its fixed address). */
  origins: Origins;
  /** The services whose instances the topology lists (watched from the start). */
  instancesOf?: readonly string[];
  /** Follow the inspection stream and sample heartbeats in the background (default true). */
  follow?: boolean;
  heartbeatMs?: number;
  maxStreams?: number;
  /** The processes whose `/metrics` feed the Overview's charts (default none). */
  scrapeTargets?: () => readonly ScrapeTarget[];
  serviceToken?: string;
}): Promise<ControlContext> {
  const { redis, keyPrefix } = options;
  const [view, table, chaos, inspector, discovery] = await Promise.all([
    openClusterView({ redis, keyPrefix }),
    openProcessTable({ redis, keyPrefix }),
    openChaosStore({ redis, keyPrefix }),
    openInspector({ source: 'control', redis, keyPrefix }),
    openDiscovery({ redis, keyPrefix, services: options.instancesOf ?? [] }),
  ]);
  const origins = discoveredOrigins(discovery, options.origins);
  const breakerStore = isClusterUrl(redis) ? undefined : createBreakerStore({ url: redis, prefix: keyPrefix, instance: `control:${process.pid}` });
  const history = new ActorHistory();
  const sagas = new SagaStats();
  const rates = new RateSampler(view);
  const overview = new OverviewScraper(options.scrapeTargets ?? (() => []));
  const load = new LoadGenerator({
    gateway: () => origins('gateway'),
    serviceToken: options.serviceToken,
    // Live stock from the SKU actor: the gateway's catalogue may be served by the legacy snapshot (the strangler).
    stockOf: async (sku) => (await view.actors.read(`inventory/sku/${sku}`).catch(() => null))?.context?.onHand ?? null,
  });
  const follow = options.follow ?? true;
  let tail: { stop(): Promise<void> } | undefined;
  if (follow) {
    rates.start();
    overview.start();
    tail = await tailInspection({
      redis,
      keyPrefix,
      from: `${Date.now() - LOOK_BACK_MS}-0`,
      onEvents: (events) => {
        for (const e of events) {
          history.add(e);
          sagas.add(e.event);
        }
      },
    });
  }
  return {
    redisUrl: redis,
    serviceToken: options.serviceToken,
    keyPrefix,
    view,
    table,
    chaos,
    inspect: inspector.inspect,
    origins,
    discovery,
    breakerStore,
    watched: options.instancesOf ?? [],
    load,
    history,
    sagas,
    rates,
    overview,
    traces: new TraceStore(),
    streams: { open: 0, max: options.maxStreams ?? 32 },
    heartbeatMs: options.heartbeatMs ?? 15_000,
    async close() {
      rates.stop();
      overview.stop();
      await load.drain();
      await tail?.stop();
      await inspector.close();
      breakerStore?.close();
      await Promise.all([view.close(), table.close(), chaos.close(), discovery.close()]);
    },
  };
}

/**
 * Round robin over the live instances discovery lists, skipping those in `avoid` while another is left; the fixed
 * origin when none is listed.
 *
 * @example
 * const origins = discoveredOrigins(discovery, (name) => originOf(name));
 * origins('order'); // 'http://127.0.0.1:3011', then 'http://127.0.0.1:3001', …
 */
export function discoveredOrigins(discovery: Pick<Discovery, 'origins'>, fixed: Origins): Origins {
  let turn = 0;
  return (name, avoid) => {
    const live = discovery.origins(name);
    if (live.length === 0) return fixed(name, avoid);
    const fresh = live.filter((origin) => !avoid?.has(origin));
    const pool = fresh.length > 0 ? fresh : live;
    return pool[turn++ % pool.length]!;
  };
}
