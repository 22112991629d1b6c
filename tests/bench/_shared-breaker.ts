/**
 * The shared-breaker half of `bun run bench breaker`: the cost per call of a shared breaker (its window and state in
 * Redis) next to the same breaker kept local, on an async no-op. A shared breaker's call does not wait for Redis, but
 * its record is real work on the connection, so each round ends with a PING, which Redis answers after every record
 * before it: a round's time covers all of its records. Medians of `rounds` rounds, local and shared interleaved.
 */
import { createBreakerStore, createCircuitBreaker, type CircuitBreaker, type WindowConfig } from '../../runtime/resilience/index.ts';
import { cleanupPrefix } from '../helpers/redis.ts';

export type SharedFigures = { window: string; localUs: number; sharedUs: number; ratio: number }[];

export async function benchShared(url: string, calls: number, rounds: number): Promise<SharedFigures | string> {
  const prefix = `bench:breaker:${process.pid}`;
  const store = createBreakerStore({ url, prefix, instance: 'bench' });
  const deadline = Date.now() + 3_000;
  while (!store.reachable && Date.now() < deadline) await Bun.sleep(20);
  if (!store.reachable) {
    store.close();
    return `skipped: no Redis answered at ${url}`;
  }
  const noop = async (): Promise<number> => 1;
  const windows: [string, WindowConfig][] = [
    ['time window 10 s', { kind: 'time', ms: 10_000, buckets: 10 }],
    ['count window 100', { kind: 'count', size: 100 }],
  ];
  const figures: SharedFigures = [];
  try {
    for (const [label, window] of windows) {
      const local = createCircuitBreaker({ name: `bench-local-${window.kind}`, window });
      const shared = createCircuitBreaker({ name: `bench-shared-${window.kind}`, window, shared: true, store });
      const run = async (breaker: CircuitBreaker): Promise<number> => {
        const started = performance.now();
        for (let i = 0; i < calls; i++) await breaker.execute(noop);
        if (breaker === shared) await store.link.call(['PING']);
        return ((performance.now() - started) * 1000) / calls;
      };
      await run(local);
      await run(shared);
      const samples = { local: [] as number[], shared: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        Bun.gc(true);
        samples.local.push(await run(local));
        Bun.gc(true);
        samples.shared.push(await run(shared));
      }
      if (shared.stats().sharing?.mode !== 'shared' || shared.state !== 'closed') throw new Error(`the shared breaker left shared closed state: ${shared.stats().reason}`);
      const localUs = median(samples.local);
      const sharedUs = median(samples.shared);
      figures.push({ window: label, localUs, sharedUs, ratio: sharedUs / localUs });
      local.dispose();
      shared.dispose();
    }
  } finally {
    store.close();
    await cleanupPrefix(prefix, url);
  }
  return figures;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
