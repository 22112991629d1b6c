/**
 * The event log: domain events that actors `publish`, committed with their turn into their partition's slice of
 * the service's log (`{service:p}:events`), so events of one aggregate stay in order. Subscribers read every
 * slice through their own consumer group: at-least-once, in order per aggregate, resumable after a crash
 * (pending entries first), replayable from any id. Each event carries a stable `id` for the subscriber to drop
 * repeats — e.g. by sending its effect as a message with that id. Slices are capped (`MAXLEN ~`): a subscriber
 * that falls behind the cap gets a gap notice for what it missed, never silence. The parts live in `event-log/`.
 */
export { GAP_EVENT_TYPE, isGapNotice, type DomainEvent, type GapNotice } from './event-log/domain-event.ts';
export { subscribeEvents, type EventSubscription, type SubscribeOptions } from './event-log/subscribe.ts';
export { readEvents } from './event-log/read-events.ts';
export { tailEvents, type EventTail } from './event-log/tail-events.ts';
