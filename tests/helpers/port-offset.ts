/**
 * A port offset under which a set of ports is free now, for a test that starts processes on `base + offset`.
 * Offsets are drawn so every port stays below Linux's ephemeral range (32768–60999 by default): a port in that range
 * can be taken between the probe and the child's bind by any outbound connection the machine opens (a Redis client,
 * a fetch) — which is how a CI run once failed with EADDRINUSE.
 */
import { DEFAULT_PORTS, type ProcessName } from '../../services/config.ts';

/** Highest port a probed offset may reach: under the ephemeral range. */
const BELOW_EPHEMERAL = 32_000;

/**
 * @example
 * const offset = freeOffset([['127.0.0.1', 'order'], ['127.0.0.1', 'gateway']]);
 */
export function freeOffset(places: readonly (readonly [host: string, name: ProcessName])[]): number {
  const highest = Math.max(...places.map(([, name]) => DEFAULT_PORTS[name]));
  for (let tries = 0; tries < 50; tries++) {
    const offset = 10_000 + Math.floor(Math.random() * (BELOW_EPHEMERAL - highest - 10_000));
    try {
      const probes = places.map(([host, name]) => Bun.serve({ port: DEFAULT_PORTS[name] + offset, hostname: host, fetch: () => new Response() }));
      for (const probe of probes) probe.stop(true);
      return offset;
    } catch {}
  }
  throw new Error('no free port range found');
}

/** The same, every process on loopback. */
export const freeLoopbackOffset = (names: readonly ProcessName[]): number => freeOffset(names.map((name) => ['127.0.0.1', name] as const));
