/**
 * What the system says happened, from its inspection stream (the one the panel follows): faults the processes
 * injected (`chaos.injected`, by kind — a lower bound, since each process reports at most ~20 a second), dead
 * letters, parked sagas, breaker trips and leases lost or moved. Counted as the run goes, because the stream is capped.
 */
import { tailInspection } from '../../runtime/ops/index.ts';
import { type InspectionEvent } from '../../runtime/index.ts';

export type Observations = {
  injected: Record<string, number>;
  injectedByTarget: Record<string, number>;
  deadLetters: number;
  parked: string[];
  breakerOpened: number;
  leasesLost: number;
  leasesMoved: number;
  events: number;
};

export type Observer = { seen: Observations; stop(): Promise<void> };

/**
 * Follows the inspection stream from now on.
 *
 * @example
 * const observer = await observe({ redis: system.redisUrl, keyPrefix: system.prefix });
 * await observer.stop();
 * observer.seen.injected; // { drop: 12, duplicate: 40, … }
 */
export async function observe(options: { redis: string; keyPrefix: string }): Promise<Observer> {
  const seen: Observations = { injected: {}, injectedByTarget: {}, deadLetters: 0, parked: [], breakerOpened: 0, leasesLost: 0, leasesMoved: 0, events: 0 };
  const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);
  const on = (event: InspectionEvent) => {
    seen.events++;
    switch (event.type) {
      case 'chaos.injected': {
        // A call to a dependency reads `payment → provider`; a message `inventory sku.hold`; a Redis call `payment redis XADD`.
        const where = event.kind === 'redis' ? 'link' : event.target.includes('→') ? 'provider call' : 'message';
        count(seen.injected, `${event.kind} (${where})`);
        count(seen.injectedByTarget, `${event.kind} ${event.target}`);
        break;
      }
      case 'deadletter':
        seen.deadLetters++;
        break;
      case 'saga.step':
        if (event.phase === 'parked') seen.parked.push(event.sagaId);
        break;
      case 'breaker.transition':
        if (event.to === 'open') seen.breakerOpened++;
        break;
      case 'lease.moved':
        if (event.to === '(lost)') seen.leasesLost++;
        else if (event.from && event.from !== event.to) seen.leasesMoved++;
        break;
    }
  };
  const tail = await tailInspection({ redis: options.redis, keyPrefix: options.keyPrefix, from: '$', onEvents: (batch) => batch.forEach((e) => on(e.event)) });
  return { seen, stop: () => tail.stop() };
}
