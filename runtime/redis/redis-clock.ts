/**
 * The node's clock, set to Redis's. Times a node writes for other nodes to read — a durable timer's due time, a
 * heartbeat in the node registry, an expiry — are compared with other nodes' clocks later, so a node whose machine
 * clock is off (drift, an NTP step, a container on a host with a wrong clock) would fire timers armed elsewhere early
 * or late and look dead to its peers. Every node reads Redis's `TIME` on each lease tick and keeps the offset of the
 * sample with the shortest round trip among the last few (its midpoint is the tightest estimate): the nodes of a
 * system then agree on time to within a few milliseconds, whatever their machines say. Timers still run on the local
 * clock: only `now()` is shifted. On a Redis Cluster the time is read through a script keyed by `<prefix>:clock`, so every
 * process reads the clock of the same master (the slot's) rather than whichever node a keyless command reaches.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { RedisLink } from './link.ts';

/** How many recent samples the offset is chosen from: a clock step is followed within this many ticks. */
const SAMPLES = 8;

export type Sample = { offsetMs: number; roundTripMs: number };

export class RedisClock implements Clock {
  private offsetMs = 0;
  private samples: Sample[] = [];

  /** `routeKey`: a key (never written) whose slot names the master to read the time from on a cluster. */
  constructor(
    private readonly local: Clock,
    private readonly routeKey: string,
  ) {}

  now(): number {
    return this.local.now() + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.local.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.local.clearTimeout(handle);
  }

  /** How far Redis's clock is ahead of the local one (negative: behind). */
  get offset(): number {
    return this.offsetMs;
  }

  /** Takes one sample of Redis's `TIME`. A failed call keeps the offset as it was. */
  async sync(link: RedisLink): Promise<void> {
    const sentAt = this.local.now();
    const [seconds, micros] = (await link.call(['EVAL', "return redis.call('TIME')", 1, this.routeKey])) as [string | number, string | number];
    const receivedAt = this.local.now();
    const redisNow = Number(seconds) * 1000 + Number(micros) / 1000;
    if (!Number.isFinite(redisNow)) throw new Error(`Redis answered TIME with ${JSON.stringify([seconds, micros])}`);
    this.samples.push({ offsetMs: redisNow - (sentAt + receivedAt) / 2, roundTripMs: Math.max(0, receivedAt - sentAt) });
    if (this.samples.length > SAMPLES) this.samples.shift();
    this.offsetMs = offsetOf(this.samples);
  }
}

/**
 * The offset of the sample with the shortest round trip — unless zero lies within that sample's own uncertainty
 * (half its round trip, plus the local clock's millisecond): Redis's time is then indistinguishable from the local
 * one, and shifting by a measurement's noise would only make this node disagree by a few milliseconds with the times
 * its machines stamp with the local clock (a saga's log, say) when they run on the same host as Redis.
 */
export function offsetOf(samples: readonly Sample[]): number {
  if (samples.length === 0) return 0;
  const best = samples.reduce((a, b) => (b.roundTripMs < a.roundTripMs ? b : a));
  return Math.abs(best.offsetMs) <= best.roundTripMs / 2 + 1 ? 0 : Math.round(best.offsetMs);
}
