/**
 * Liveness while the faults fly: every second it looks at each partition's mailbox of every service, and when a
 * partition has messages waiting (undelivered, or delivered and not acked) but its consumer group has not moved for
 * longer than any fault of the plan explains (a kill costs the lease TTL and a restart, a pause ~5 s, a Redis restart
 * ~2 s), that partition has stalled: something holds it without consuming it. Stalls are recorded with their length
 * and the node that held the lease; the run fails on any.
 */
import { SERVICE_NAMES } from '../../services/config.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import type { Monitor } from './recovery.ts';

export type Stall = { service: string; partition: number; since: number; ms: number; waiting: number; holder: string | null };

export type Watchdog = { stalls: Stall[]; stop(): Promise<void> };

/** No fault of a run keeps a partition from moving this long. */
export const STALL_MS = 20_000;
const PARTITIONS = 8;

function fieldsOf(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * Starts watching.
 *
 * @example
 * const watchdog = watchPartitions(monitor, system.prefix);
 * await watchdog.stop();
 * watchdog.stalls; // [] when every partition kept moving
 */
export function watchPartitions(redis: Monitor, prefix: string, options: { stallMs?: number; everyMs?: number } = {}): Watchdog {
  const stallMs = options.stallMs ?? STALL_MS;
  const stalls: Stall[] = [];
  const last = new Map<string, { sig: string; changedAt: number; stall?: Stall }>();
  let stopped = false;

  const look = async (service: string, partition: number, now: number) => {
    const k = partitionKeys(prefix, service, partition);
    const [groups, tail, holder] = await Promise.all([
      redis.sendCommand(['XINFO', 'GROUPS', k.mbox]).catch(() => []) as Promise<unknown[]>,
      redis.sendCommand(['XREVRANGE', k.mbox, '+', '-', 'COUNT', '1']) as Promise<[string, unknown][]>,
      redis.get(k.lease),
    ]);
    const group = groups.map((g) => (Array.isArray(g) ? fieldsOf(g) : (g as Record<string, unknown>))).find((g) => g.name === service);
    const delivered = String(group?.['last-delivered-id'] ?? '0-0');
    const pending = Number(group?.pending ?? 0);
    // Not the group's `lag`: the runtime reads redeliveries with XCLAIM, which Redis does not count as read, so
    // `lag` stays high on a mailbox that has nothing left to deliver. Count what lies after the last delivered id.
    const newest = tail[0]?.[0];
    const undelivered = newest && newest !== delivered ? ((await redis.sendCommand(['XRANGE', k.mbox, `(${delivered}`, '+', 'COUNT', '1000'])) as unknown[]).length : 0;
    const waiting = pending + undelivered;
    const key = `${service}:${partition}`;
    const sig = `${delivered}|${pending}|${group?.['entries-read'] ?? ''}`;
    const seen = last.get(key);
    if (!seen || seen.sig !== sig || waiting === 0) {
      last.set(key, { sig, changedAt: now });
      return;
    }
    const ms = now - seen.changedAt;
    if (ms < stallMs) return;
    if (!seen.stall) {
      seen.stall = { service, partition, since: seen.changedAt, ms, waiting, holder };
      stalls.push(seen.stall);
    }
    seen.stall.ms = ms;
    seen.stall.waiting = waiting;
  };

  const loop = (async () => {
    while (!stopped) {
      const now = Date.now();
      try {
        for (const service of SERVICE_NAMES) await Promise.all([...Array(PARTITIONS).keys()].map((p) => look(service, p, now)));
      } catch {
        // Redis restarting: look again in a second
      }
      await Bun.sleep(options.everyMs ?? 1_000);
    }
  })();

  return {
    stalls,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
