/**
 * An in-flight limit whose work ends are read from a service's event log: the work admitted is keyed by an id that
 * the events name (an order id), and `endedBy` says which events end it. The log is followed from now on, without
 * a consumer group (`tailEvents`). The limit holds only once the log is followed: until then (the service may
 * register after the holder starts; Redis may not answer) nothing is counted or refused — a count whose ends cannot
 * be heard would only fill up — and the tail is tried again every second.
 */
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { partitionCount } from '../event-log/partitions.ts';
import { tailEvents, type EventTail } from '../event-log/tail-events.ts';
import { openLink, type RedisLink } from '../redis/link.ts';
import type { DomainEvent } from '../event-log/domain-event.ts';
import { admissionRefusedTotal, inFlightLimits } from '../observe/metrics.ts';
import { InFlightLimit, type InFlightLimitOptions } from './in-flight-limit.ts';

export type InFlight = { readonly limit: InFlightLimit; close(): Promise<void> };

/**
 * How long the tail waits after a read that brought events (ms): a service's log has several events per piece of
 * work, and each read wakes Redis and this process. A work's end is heard up to this much later, and its latency,
 * which the limit judges, counts it.
 */
export const IN_FLIGHT_TAIL_LINGER_MS = 10;

/**
 * @example
 * const inFlight = openInFlight({ service: 'order', targetMs: 150, endedBy: (e) => (e.type === 'OrderConfirmed' ? String(e.orderId) : null) });
 * inFlight.limit.admit(orderId); // throws 429 OVERLOADED (in-flight) when full
 */
export function openInFlight(
  options: Omit<InFlightLimitOptions, 'onRefused'> & {
    /** The id of the work an event ends, or null. */
    endedBy: (event: DomainEvent) => string | null;
    redis?: string;
    keyPrefix?: string;
    onError?: (error: unknown) => void;
    /** How long the log's tail waits after a read that brought events (ms; default `IN_FLIGHT_TAIL_LINGER_MS`). */
    lingerMs?: number;
  },
): InFlight {
  const refused = admissionRefusedTotal.labels(options.service, 'in-flight');
  const limit = new InFlightLimit({ ...options, enforcing: false, onRefused: () => refused.inc() });
  const shown = { service: options.service, get size() { return limit.size; }, get limit() { return limit.enforced ? limit.limit : 0; } };
  inFlightLimits.add(shown);
  let tail: EventTail | null = null;
  let closed = false;
  let reported = '';
  let lastReadError = '';
  let lastReadErrorAt = 0;
  const failed = async (error: unknown) => {
    // Each new reason once, not once a second.
    const why = error instanceof Error ? error.message : String(error);
    if (why !== reported) options.onError?.(new Error(`the in-flight limit waits to follow ${options.service}'s events (nothing is refused by it meanwhile): ${why}`));
    reported = why;
    await Bun.sleep(1_000);
  };
  const opening = (async () => {
    // The service may register after this process starts: wait for it on one connection, not a new one a second
    // (each new connection is briefly an unauthenticated one on a Redis with a password).
    let probe: RedisLink | null = null;
    while (!closed) {
      try {
        probe ??= await openLink(options.redis ?? redisUrlOf(), 'node-redis', { blocking: true });
        await partitionCount(probe, options.keyPrefix ?? keyPrefixOf(), options.service);
        break;
      } catch (error) {
        await failed(error);
      }
    }
    if (closed) return void (await probe?.close().catch(() => probe?.abort()));
    while (!closed) {
      try {
        // The tail reads on the connection that saw the service (a new one only after a failure).
        const link = probe ?? undefined;
        probe = null;
        const opened = await tailEvents({
          link,
          service: options.service,
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          lingerMs: options.lingerMs ?? IN_FLIGHT_TAIL_LINGER_MS,
          onEvent: (event) => {
            const id = options.endedBy(event);
            if (id !== null) limit.release(id);
          },
          // A broken link fails every read (one each 200 ms): each reason is told once per 10 s.
          onError: (error) => {
            const why = error instanceof Error ? error.message : String(error);
            const now = Date.now();
            if (why === lastReadError && now - lastReadErrorAt < 10_000) return;
            lastReadError = why;
            lastReadErrorAt = now;
            options.onError?.(error);
          },
        });
        if (closed) await opened.stop();
        else {
          tail = opened;
          limit.enforce();
        }
        return;
      } catch (error) {
        await failed(error);
      }
    }
  })();
  return {
    limit,
    async close() {
      closed = true;
      inFlightLimits.delete(shown);
      // While Redis does not answer, the opening may wait on a connection: shutdown does not wait for it.
      await Promise.race([opening, Bun.sleep(2_000)]);
      await tail?.stop();
    },
  };
}
