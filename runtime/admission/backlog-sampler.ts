/**
 * How far behind each service's mailboxes are, read from Redis every `sampleMs` by one timer that every request of
 * the process shares: a request that asks costs a map lookup, never a Redis call. A service is sampled only while
 * it is asked about (an idle process reads nothing), and each partition costs one read-only script call.
 */
import { partitionKeys } from '../keys.ts';
import type { RedisLink } from '../redis/link.ts';
import { scripts } from '../redis/script.ts';
import { UnknownServiceError } from '../unknown-service-error.ts';

/** The worst partition of a service at one sample: most entries waiting, and the oldest of them. */
export type ServiceBacklog = {
  /** Undelivered + pending entries of the partition that holds most. */
  backlog: number;
  backlogPartition: number;
  /** Age (ms, by Redis's clock) of the oldest undelivered entry of any partition; 0 when none waits. */
  oldestAgeMs: number;
  oldestPartition: number;
};

/** What is known of a service now. */
export type BacklogReading = {
  /** Its last sample; null before the first, or when no node has ever hosted it (nothing waits for it then). */
  backlog: ServiceBacklog | null;
  /** ms since the last good sample (or since it was first asked about, or asked again after a pause). */
  sinceGoodMs: number;
  /** Why the last sample failed ('' if it did not). */
  error: string;
};

type Watched = { askedAt: number; since: number; okAt: number | null; backlog: ServiceBacklog | null; unknown: boolean; error: string };

/** Entries counted one by one when Redis cannot tell a group's lag: past this, the bound is long passed anyway. */
const COUNT_CAP = 1_000;
/** A service nobody asked about for this long is no longer sampled. */
const IDLE_MS = 10_000;

/** The id's milliseconds: Redis stamps `<ms>-<seq>` from its own clock when an entry is added with `*`. */
const idMs = (id: string) => Number(id.slice(0, id.indexOf('-')));

export class BacklogSampler {
  private readonly watched = new Map<string, Watched>();
  private readonly counts = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sampling: Promise<void> | null = null;
  private stopped = false;
  private get idleMs(): number {
    return this.options.idleMs ?? IDLE_MS;
  }

  constructor(
    private readonly options: {
      link: RedisLink;
      keyPrefix: string;
      /** A service's partition count (throws `UnknownServiceError` for a service no node registered). */
      partitionsOf: (service: string) => Promise<number>;
      sampleMs: number;
      /** The consumer group of a service's mailboxes (the runtime names it after the service). */
      groupOf?: (service: string) => string;
      onError?: (error: unknown, where: string) => void;
      /** How long nobody may ask before sampling stops (until someone asks again). Default 10 s. */
      idleMs?: number;
    },
  ) {}

  /**
   * The latest reading of a service; the first call starts sampling it.
   *
   * @example
   * const reading = sampler.reading('order');
   * const { backlog } = sampler.reading('order'); // null until the first sample is in
   */
  reading(service: string): BacklogReading {
    const now = performance.now();
    let w = this.watched.get(service);
    if (!w) {
      this.watched.set(service, (w = { askedAt: now, since: now, okAt: null, backlog: null, unknown: false, error: '' }));
      this.start();
    } else if (now - w.askedAt > this.idleMs) {
      // Asked again after a pause: what it knew then says nothing about now. Marked asked before sampling restarts:
      // the first sample would otherwise find every service idle and stop the timer again, for good.
      Object.assign(w, { askedAt: now, since: now, okAt: null, backlog: null, error: '' });
      this.start();
    }
    w.askedAt = now;
    return { backlog: w.unknown ? null : w.backlog, sinceGoodMs: now - (w.okAt ?? w.since), error: w.error };
  }

  /** Reads every watched service now (the timer calls it; tests may too). */
  sample(): Promise<void> {
    this.sampling ??= this.sampleAll().finally(() => (this.sampling = null));
    return this.sampling;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.sample(), this.options.sampleMs);
    // The sampler never keeps a process alive by itself.
    (this.timer as { unref?: () => void }).unref?.();
    void this.sample();
  }

  private async sampleAll(): Promise<void> {
    const now = performance.now();
    const services = [...this.watched].filter(([, w]) => now - w.askedAt <= this.idleMs);
    if (services.length === 0 && this.timer) {
      // Nobody asks any more: stop reading until someone does.
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    await Promise.all(services.map(([service, w]) => this.sampleService(service, w)));
  }

  private async sampleService(service: string, w: Watched): Promise<void> {
    try {
      let count = this.counts.get(service);
      if (count === undefined) {
        count = await this.options.partitionsOf(service);
        this.counts.set(service, count);
      }
      const group = this.options.groupOf?.(service) ?? service;
      const replies = await Promise.all(
        Array.from({ length: count }, (_, p) => scripts.sampleBacklog.run(this.options.link, [partitionKeys(this.options.keyPrefix, service, p).mbox], [group, COUNT_CAP])),
      );
      const worst: ServiceBacklog = { backlog: 0, backlogPartition: 0, oldestAgeMs: 0, oldestPartition: 0 };
      replies.forEach((reply, partition) => {
        const [undelivered, pending, oldestId, nowMs] = reply as [number, number, string, number];
        const backlog = Number(undelivered) + Number(pending);
        if (backlog > worst.backlog) Object.assign(worst, { backlog, backlogPartition: partition });
        const age = oldestId ? Math.max(0, Number(nowMs) - idMs(String(oldestId))) : 0;
        if (age > worst.oldestAgeMs) Object.assign(worst, { oldestAgeMs: age, oldestPartition: partition });
      });
      Object.assign(w, { backlog: worst, okAt: performance.now(), unknown: false, error: '' });
    } catch (error) {
      if (error instanceof UnknownServiceError) {
        // No node has ever hosted it: nothing waits in its mailboxes, and it may start at any moment.
        Object.assign(w, { okAt: performance.now(), unknown: true, error: '' });
        return;
      }
      w.error = error instanceof Error ? error.message : String(error);
      this.options.onError?.(error, `sampling the backlog of ${service}`);
    }
  }
}
