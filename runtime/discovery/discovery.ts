/**
 * The read side of the node registry: which instances of a service are live and where to reach them. A discovery
 * client keeps a copy of each watched service's members that advertise an HTTP address, refreshed in the
 * background (every 500 ms by default), and answers from memory — a caller never waits on Redis. A member counts as
 * live while its last heartbeat is younger than its own TTL, checked at every answer, so an instance whose process
 * died drops out within its TTL even when Redis cannot be read to learn it.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { RedisClock } from '../redis/redis-clock.ts';
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { globalKeys } from '../keys.ts';
import { hashReply, openLink, type RedisLink } from '../redis/link.ts';
import { RegistryField } from '../node/registry.ts';

/** One live instance of a service, as its last heartbeat described it. */
export type Instance = {
  /** Its registry id (a node id). */
  id: string;
  service: string;
  /** Advertised `host:port`. */
  address: string;
  /** `http://host:port`. */
  origin: string;
  /** Its last heartbeat (ms since the epoch) and its TTL: it is gone at `lastHeartbeat + ttlMs`. */
  lastHeartbeat: number;
  ttlMs: number;
  /** Everything else its heartbeat says (pid, requests served, …). */
  info: Record<string, string>;
};

export type DiscoveryOptions = {
  redis?: string;
  keyPrefix?: string;
  /** Services to watch from the start (`instances` of another adds it to the watch). */
  services?: readonly string[];
  /** How often the copy is refreshed (default 500 ms). */
  refreshMs?: number;
  clock?: Clock;
  onError?: (error: unknown) => void;
};

const DEFAULT_TTL_MS = 3_000;

/**
 * @example
 * const discovery = await openDiscovery({ services: ['order'] });
 * discovery.origins('order'); // ['http://127.0.0.1:3001', 'http://127.0.0.1:3011']
 */
export class Discovery {
  private readonly known = new Map<string, Instance[]>();
  private timer: TimerHandle | undefined;
  private refreshing: Promise<void> | undefined;
  private closed = false;
  private reportedError = false;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly refreshMs: number,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The live instances of `service`, freshest copy, in a stable order (by address). Starts watching it. */
  instances(service: string): Instance[] {
    const members = this.known.get(service);
    if (members === undefined) {
      this.known.set(service, []);
      void this.refresh();
      return [];
    }
    const now = this.clock.now();
    return members.filter((m) => now - m.lastHeartbeat <= m.ttlMs);
  }

  /** The `http://host:port` of each live instance of `service`. */
  origins(service: string): string[] {
    return this.instances(service).map((i) => i.origin);
  }

  /** Reads the registry now for every watched service (the background loop calls this). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Starts the background refresh. */
  start(): void {
    const loop = () => {
      if (this.closed) return;
      void this.refresh().finally(() => {
        if (!this.closed) this.timer = this.clock.setTimeout(loop, this.refreshMs);
      });
    };
    this.timer = this.clock.setTimeout(loop, this.refreshMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.refreshing;
    await this.link.close();
  }

  private async read(): Promise<void> {
    const g = globalKeys(this.prefix);
    try {
      // Heartbeats carry Redis's time (the writers' clocks are set to it): ours must be too, to age them.
      if (this.clock instanceof RedisClock) await this.clock.sync(this.link);
      await Promise.all(
        [...this.known.keys()].map(async (service) => {
          const ids = ((await this.link.call(['ZRANGE', g.nodes(service), 0, -1])) as unknown[]).map(String);
          const hashes = await Promise.all(ids.map((id) => this.link.call(['HGETALL', g.node(id)])));
          const members: Instance[] = [];
          ids.forEach((id, i) => {
            const info = hashReply(hashes[i]);
            const address = info[RegistryField.http];
            const at = Number(info[RegistryField.at]);
            if (!address || !Number.isFinite(at)) return; // not discoverable, or its hash expired
            members.push({ id, service, address, origin: `http://${address}`, lastHeartbeat: at, ttlMs: Number(info[RegistryField.ttlMs]) || DEFAULT_TTL_MS, info });
          });
          members.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
          this.known.set(service, members);
        }),
      );
      this.reportedError = false;
    } catch (error) {
      // Once per outage: the copy in memory keeps answering, and ages out member by member.
      if (!this.reportedError) this.onError(error);
      this.reportedError = true;
    }
  }
}

/**
 * Opens a discovery client on its own connection, reads the watched services once, and keeps refreshing.
 *
 * @example
 * const discovery = await openDiscovery({ services: ['order', 'inventory'], refreshMs: 250 });
 * onShutdown(() => discovery.close());
 */
export async function openDiscovery(options: DiscoveryOptions = {}): Promise<Discovery> {
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  const onError = options.onError ?? ((error: unknown) => console.error(`[mailroom discovery] ${error instanceof Error ? error.message : String(error)}`));
  const discovery = new Discovery(link, options.keyPrefix ?? keyPrefixOf(), options.refreshMs ?? 500, new RedisClock(options.clock ?? systemClock, globalKeys(options.keyPrefix ?? keyPrefixOf()).clock), onError);
  for (const service of options.services ?? []) discovery.instances(service);
  await discovery.refresh();
  discovery.start();
  return discovery;
}
