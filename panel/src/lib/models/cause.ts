/**
 * Cause → effect: for a failed saga step, the chaos rule or breaker trip that made it fail, found on the event
 * stream near that time. A failure whose reason names a chaos rule links to that rule; one that names an open
 * breaker links to the latest trip of that breaker; otherwise the closest fault before the failure is offered.
 */
import type { LiveEvent } from '../api/types.ts';

export type Cause =
  | { kind: 'chaos'; ruleId?: string; text: string; at: number; eventId: string }
  | { kind: 'breaker'; process: string; breaker: string; text: string; at: number; eventId: string };

/** How far before a failure a fault may be its cause. */
const LOOKBACK_MS = 120_000;
const LOOKAHEAD_MS = 2_000;

type Candidate = Extract<LiveEvent, { type: 'chaos.rule' | 'chaos.injected' | 'chaos.action' | 'breaker.transition' }>;

function isCandidate(e: LiveEvent): e is Candidate {
  return e.type === 'chaos.rule' || e.type === 'chaos.injected' || e.type === 'chaos.action' || (e.type === 'breaker.transition' && (e.to === 'open' || e.to === 'forcedOpen'));
}

function toCause(e: Candidate): Cause {
  if (e.type === 'breaker.transition') return { kind: 'breaker', process: e.source, breaker: e.breaker, text: `${e.source} breaker "${e.breaker}" ${e.from} → ${e.to}: ${e.reason}`, at: e.at, eventId: e.id };
  const what = e.detail ? `: ${e.detail}` : '';
  return { kind: 'chaos', ruleId: e.rule, text: `chaos ${e.kind} on ${e.target}${what}`, at: e.at, eventId: e.id };
}

/**
 * @example
 * findCause({ at: failedAt, reason: 'provider breaker is open; retry after 9 s' }, events);
 * // { kind: 'breaker', process: 'payment', breaker: 'provider', text: 'payment breaker "provider" closed → open: …', … }
 */
export function findCause(failure: { at: number; reason?: string }, events: readonly LiveEvent[]): Cause | null {
  const near = events.filter(isCandidate).filter((e) => e.at <= failure.at + LOOKAHEAD_MS && e.at >= failure.at - LOOKBACK_MS);
  if (near.length === 0) return null;
  const reason = (failure.reason ?? '').toLowerCase();
  const ruleId = /chaos rule ([\w-]+)/i.exec(failure.reason ?? '')?.[1];
  const latest = <T extends Candidate>(list: T[]) => list.reduce<T | undefined>((best, e) => (!best || Math.abs(failure.at - e.at) < Math.abs(failure.at - best.at) ? e : best), undefined);
  if (ruleId) {
    const rule = latest(near.filter((e) => e.type !== 'breaker.transition' && e.rule === ruleId));
    if (rule) return toCause(rule);
  }
  if (/breaker|circuit/.test(reason)) {
    const trip = latest(near.filter((e) => e.type === 'breaker.transition' && (reason.includes(e.breaker) || reason.includes(e.source))));
    const anyTrip = trip ?? latest(near.filter((e) => e.type === 'breaker.transition'));
    if (anyTrip) return toCause(anyTrip);
  }
  // The rule that was set most recently before the failure (a rule, not an injection: that is the thing to link).
  const rules = near.filter((e) => e.type === 'chaos.rule' && e.at <= failure.at);
  const trips = near.filter((e) => e.type === 'breaker.transition' && e.at <= failure.at);
  const best = latest([...trips, ...rules]) ?? latest(near);
  return best ? toCause(best) : null;
}
