/**
 * Inspection events as the Events view and the other views read them: one line of text, the meaning that colours it,
 * the thing it names (a link: an event opens the actor, saga, breaker or view it is about), and the filter.
 */
import type { InspectionEvent, InspectionEventType } from '../api/types.ts';
import { breakerWord, meaningOf, type Meaning } from './meaning.ts';
import type { Route } from './route.ts';

export const EVENT_GROUPS: Record<string, InspectionEventType[]> = {
  actors: ['actor.transition', 'message.sent', 'message.received', 'timer.armed', 'timer.fired', 'timer.cancelled', 'actor.migrated', 'actor.heldBack'],
  sagas: ['saga.step', 'saga.replyIgnored'],
  resilience: ['breaker.transition', 'breaker.rejected', 'breaker.sharing', 'retry.attempt', 'bulkhead.rejected'],
  chaos: ['chaos.rule', 'chaos.injected', 'chaos.action'],
  system: ['process.started', 'process.exited', 'process.healthy', 'node.joined', 'node.left', 'lease.moved', 'deadletter', 'deadletter.trimmed'],
  subscribers: ['subscriber.gap', 'subscriber.deadletter'],
};

/**
 * @example
 * summarize({ type: 'breaker.transition', source: 'payment', breaker: 'provider', from: 'closed', to: 'open', reason: 'opened: …', at }); // 'breaker provider closed → open: opened: …'
 */
export function summarize(e: InspectionEvent): string {
  switch (e.type) {
    case 'actor.transition':
      return `${e.actor} ${e.from} —${e.event}→ ${e.to}${e.handled ? '' : ' (not handled)'}`;
    case 'message.sent':
      return `${e.from ?? '?'} → ${e.to}: ${e.event}`;
    case 'message.received':
      return `${e.actor} ← ${e.event}${e.latencyMs !== undefined ? ` (${Math.round(e.latencyMs)} ms in mailbox)` : ''}`;
    case 'deadletter':
      return `dead letter: ${e.actor} ${e.event} after ${e.deliveries} deliveries: ${e.error}`;
    case 'deadletter.trimmed':
      return `${e.source} partition ${e.partition}: ${e.count} oldest dead letters dropped (cap ${e.maxLen})`;
    case 'timer.armed':
    case 'timer.fired':
    case 'timer.cancelled':
      return `${e.actor} ${e.type.slice(6)} timer ${e.timerId}`;
    case 'actor.migrated':
      return `${e.actor} migrated from ${e.actorType} v${e.fromVersion} to v${e.toVersion}${e.state ? `, now ${e.state}` : ''}`;
    case 'actor.heldBack':
      return `${e.actor} held back: ${e.reason ?? `written by ${e.actorType} v${e.fromVersion}, this node knows v${e.toVersion}`}`;
    case 'node.joined':
    case 'node.left':
      return `node ${e.node} (${e.service}) ${e.type === 'node.joined' ? 'joined' : 'left'}${e.reason ? `: ${e.reason}` : ''}${partitionsNote(e)}`;
    case 'lease.moved':
      return `${e.service} partition ${e.partition} → ${e.to}${e.from ? ` (from ${e.from})` : ''}, token ${e.token}`;
    case 'breaker.transition':
      return `breaker ${e.breaker} ${breakerWord(e.from)} → ${breakerWord(e.to)}: ${e.reason}`;
    case 'breaker.rejected':
      return `breaker ${e.breaker} (${breakerWord(e.state)}) rejected a call; retry after ${Math.ceil(e.retryAfterMs / 1000)} s`;
    case 'breaker.sharing':
      return `breaker ${e.breaker} ${e.mode === 'shared' ? 'shares its state' : 'runs on local state'}: ${e.reason}`;
    case 'retry.attempt':
      return `${e.policy}: attempt ${e.attempt}/${e.maxAttempts} in ${e.delayMs} ms after ${e.error}`;
    case 'bulkhead.rejected':
      return `bulkhead ${e.bulkhead} rejected (${e.reason}; ${e.active} active, ${e.queued} queued)`;
    case 'saga.step':
      return `saga ${e.sagaId}: ${e.step} ${e.phase}${e.durationMs !== undefined ? ` in ${Math.round(e.durationMs)} ms` : ''}${e.reason ? ` — ${e.reason}` : ''}`;
    case 'saga.replyIgnored':
      return `saga ${e.sagaId}: ${e.step} ignored ${e.reply} for ${e.commandId} — ${e.reason}`;
    case 'chaos.rule':
    case 'chaos.injected':
    case 'chaos.action':
      return `${e.type.slice(6)} ${e.kind} on ${e.target}${e.rule ? ` (rule ${e.rule})` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    case 'process.started':
    case 'process.exited':
    case 'process.healthy':
      return `process ${e.process} ${e.type.slice(8)}${e.pid ? ` (pid ${e.pid})` : ''}${e.type === 'process.exited' ? ` — ${e.signal ?? `code ${e.exitCode}`}` : ''}${e.restarts ? `, ${e.restarts} restarts` : ''}`;
    case 'subscriber.gap':
      return `subscriber ${e.group} of ${e.service} missed ${e.missed ?? 'an unknown number of'} events of partition ${e.partition} (${e.reason === 'trimmed-pending' ? 'trimmed before acked' : 'trimmed before read'})`;
    case 'subscriber.deadletter':
      return `subscriber ${e.group} of ${e.service}: dead letter ${e.eventType} of ${e.aggregate} after ${e.attempts} attempts: ${e.error}`;
  }
}

/** How many partitions a joining node's service runs with, and why when a registered count overrode the node's default. */
function partitionsNote(e: Extract<InspectionEvent, { type: 'node.joined' | 'node.left' }>): string {
  if (e.partitions === undefined) return '';
  if (e.partitionsFrom === 'registered' && e.defaultPartitions !== undefined) {
    return `, ${e.partitions} partitions as the service first registered them in this Redis (a new service gets ${e.defaultPartitions})`;
  }
  return `, ${e.partitions} partitions`;
}

export function eventMeaning(e: InspectionEvent): Meaning {
  switch (e.type) {
    case 'breaker.transition':
      return meaningOf(e.to);
    case 'breaker.rejected':
    case 'bulkhead.rejected':
    case 'deadletter':
    case 'deadletter.trimmed':
    case 'process.exited':
    case 'subscriber.gap':
    case 'subscriber.deadletter':
      return 'bad';
    case 'retry.attempt':
    case 'actor.heldBack':
      return 'warn';
    case 'breaker.sharing':
      return e.mode === 'local' ? 'warn' : 'ok';
    case 'saga.step':
      return e.phase === 'started' ? 'neutral' : e.phase === 'completed' || e.phase === 'succeeded' ? 'ok' : meaningOf(e.phase);
    case 'chaos.rule':
    case 'chaos.injected':
    case 'chaos.action':
      return 'forced';
    case 'process.healthy':
    case 'node.joined':
      return 'ok';
    case 'node.left':
      return 'warn';
    default:
      return 'neutral';
  }
}

/** The thing an event names, as a route (null when it names nothing to open). */
export function eventLink(e: InspectionEvent): Route | null {
  switch (e.type) {
    case 'actor.transition':
    case 'message.received':
    case 'timer.armed':
    case 'timer.fired':
    case 'timer.cancelled':
    case 'actor.migrated':
    case 'actor.heldBack':
      return { view: 'actors', address: e.actor };
    case 'message.sent':
      return { view: 'actors', address: e.to };
    case 'saga.step':
    case 'saga.replyIgnored':
      return { view: 'sagas', orderId: e.sagaId };
    case 'breaker.transition':
    case 'breaker.rejected':
    case 'breaker.sharing':
      return { view: 'breakers', process: e.source, dependency: e.breaker };
    case 'deadletter':
      return { view: 'deadletters' };
    case 'chaos.rule':
    case 'chaos.injected':
    case 'chaos.action':
      return { view: 'chaos' };
    default:
      return null;
  }
}

export type EventFilter = { types: ReadonlySet<string>; source: string; text: string };

export function matchesFilter(e: InspectionEvent, f: EventFilter): boolean {
  if (f.types.size > 0 && !f.types.has(e.type)) return false;
  if (f.source && e.source !== f.source) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    if (!summarize(e).toLowerCase().includes(needle) && !e.type.includes(needle)) return false;
  }
  return true;
}
