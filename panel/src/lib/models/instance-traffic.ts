/**
 * The traffic to each instance of a service, from the registry's `requests` counters. A counter moves only when its
 * instance heartbeats (about once a second), so two samples taken a poll apart often see the same heartbeat: the rate
 * is taken between two samples a window apart, over the time between the two heartbeats that wrote the counters.
 */
import type { Topology } from '../api/types.ts';

/** The topology's instances as the panel received them at `at` (ms, the panel's clock). */
export type InstanceSample = { at: number; instances: Topology['instances'] };

/** How far back the baseline sample is taken: the rates' window. */
export const TRAFFIC_WINDOW_MS = 5_000;

/**
 * Requests per second per instance id between two samples; `null` where it cannot be known (an instance new since
 * `before`, one whose counter went back because it restarted, or no heartbeat in between).
 *
 * @example
 * instanceRates(
 *   { at: 0, instances: { order: [{ id: 'o1', address: 'h:1', pid: 1, requests: 10, lastSeenMs: 0 }] } },
 *   { at: 5_000, instances: { order: [{ id: 'o1', address: 'h:1', pid: 1, requests: 30, lastSeenMs: 1_000 }] } },
 * ); // { o1: 5 } — 20 requests between heartbeats 4 s apart
 */
export function instanceRates(before: InstanceSample | undefined, after: InstanceSample): Record<string, number | null> {
  const earlier = new Map<string, { requests: number; heartbeatAt: number }>();
  for (const list of Object.values(before?.instances ?? {})) {
    for (const i of list) earlier.set(i.id, { requests: i.requests, heartbeatAt: before!.at - i.lastSeenMs });
  }
  const rates: Record<string, number | null> = {};
  for (const list of Object.values(after.instances)) {
    for (const i of list) {
      const then = earlier.get(i.id);
      const elapsedMs = after.at - i.lastSeenMs - (then?.heartbeatAt ?? 0);
      rates[i.id] = then === undefined || i.requests < then.requests || elapsedMs <= 0 ? null : ((i.requests - then.requests) * 1000) / elapsedMs;
    }
  }
  return rates;
}

/**
 * The sample to measure from: the newest one at least `windowMs` older than `now`, else the oldest there is.
 *
 * @example
 * baselineOf([{ at: 0, instances: {} }, { at: 4_000, instances: {} }, { at: 6_000, instances: {} }], 9_000)?.at; // 4_000
 */
export function baselineOf(samples: readonly InstanceSample[], now: number, windowMs = TRAFFIC_WINDOW_MS): InstanceSample | undefined {
  let baseline = samples[0];
  for (const s of samples) if (now - s.at >= windowMs) baseline = s;
  return baseline;
}
