/**
 * An event-log subscriber on the test service, as a downstream service would run one: it records every delivery
 * (repeats included) per aggregate in arrival order, and the gap notices (`mailroom.gap`) the log may send instead
 * of events it lost. The checks then ask: was every event seen, once applied, in per-aggregate order?
 */
import { subscribeEvents, type DomainEvent, type EventSubscription } from '../../../runtime/index.ts';

export const GAP_TYPE = 'mailroom.gap';

export type EventWatch = {
  /** Aggregate → deliveries of its `Added` events in arrival order (repeats included). */
  byAggregate: Map<string, { id: string; seq: number }[]>;
  /** Gap notices, as received. */
  gaps: DomainEvent[];
  deliveries: number;
  errors: number;
  /** Distinct `Added` event ids seen. */
  distinct(): number;
  stop(): Promise<void>;
};

export async function watchEvents(options: { redis: string; prefix: string; service: string }): Promise<EventWatch> {
  const byAggregate = new Map<string, { id: string; seq: number }[]>();
  const gaps: DomainEvent[] = [];
  const ids = new Set<string>();
  let deliveries = 0;
  let errors = 0;
  const sub: EventSubscription = await subscribeEvents({
    service: options.service,
    group: 'link-chaos-watch',
    redis: options.redis,
    keyPrefix: options.prefix,
    blockMs: 200,
    handler: (event) => {
      deliveries++;
      if (event.type === GAP_TYPE) {
        gaps.push(event);
        return;
      }
      if (event.type !== 'Added') return;
      ids.add(event.id);
      const list = byAggregate.get(event.aggregate) ?? [];
      list.push({ id: event.id, seq: Number(event.seq) });
      byAggregate.set(event.aggregate, list);
    },
    onError: () => {
      errors++;
    },
  });
  return {
    byAggregate,
    gaps,
    get deliveries() {
      return deliveries;
    },
    get errors() {
      return errors;
    },
    distinct: () => ids.size,
    stop: () => sub.stop(),
  };
}
