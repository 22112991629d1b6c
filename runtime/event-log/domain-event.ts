/**
 * What a subscriber is handed: the domain events actors publish, and the one kind of event the runtime adds itself,
 * a gap notice, which stands in for events the subscriber can no longer get (its slice was trimmed before it read
 * them). Events are stored as JSON in the `e` field of a slice entry.
 */
import type { SubscriberGapEvent } from '../inspection.ts';

export type DomainEvent = {
  /** Stable id of the event (use it to drop repeats). */
  id: string;
  type: string;
  /** Address of the actor that published it ('' for a gap notice). */
  aggregate: string;
  at: number;
  /** The message id whose turn published it. */
  cause: string;
  /** Position in the log: `<partition>:<stream id>`. */
  position: string;
  [key: string]: unknown;
};

/** The type of a gap notice; no actor may publish an event of this type. */
export const GAP_EVENT_TYPE = 'mailroom.gap';

/**
 * Events of one slice that a subscriber's group will never see, because they were trimmed (`MAXLEN`) first.
 * Every missed entry's stream id lies between `after` and `before` (both exclusive; null when not known).
 * `reason`: `'trimmed-unread'` — trimmed before the group read them (it lagged past the slice's retention);
 * `'trimmed-pending'` — read, then trimmed before they were acked (the subscriber crashed or stalled meanwhile).
 */
export type GapNotice = DomainEvent & GapFields & { type: typeof GAP_EVENT_TYPE };

/** What a gap notice says: the fields of the `subscriber.gap` inspection event (defined once there). */
type GapFields = Omit<SubscriberGapEvent, 'type' | 'source'>;

/**
 * @example
 * handler: (event) => { if (isGapNotice(event)) return rebuildFromSource(event.partition); apply(event); }
 */
export function isGapNotice(event: DomainEvent): event is GapNotice {
  return event.type === GAP_EVENT_TYPE;
}

/** The event a slice entry holds. */
export function toEvent(partition: number, streamId: string, fields: string[]): DomainEvent {
  const json = fields[fields.indexOf('e') + 1] ?? '{}';
  return { ...(JSON.parse(json) as DomainEvent), position: `${partition}:${streamId}` };
}

export function gapNotice(gap: GapFields): GapNotice {
  const where = gap.before ?? gap.after ?? '0-0';
  return {
    ...gap,
    id: `${GAP_EVENT_TYPE}:${gap.service}:${gap.group}:${gap.partition}:${gap.after ?? ''}:${gap.before ?? ''}`,
    type: GAP_EVENT_TYPE,
    aggregate: '',
    cause: '',
    position: `${gap.partition}:${where}`,
  };
}
