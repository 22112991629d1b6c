/**
 * Why a saga parked, when the run's own faults explain it. A compensation parks after its last attempt failed; that
 * is allowed only when an injected fault is the cause. The cause is named directly when a reason or a dead letter of
 * the order says `injected fault`; otherwise, when every failure says the participant was unreachable (no reply, a
 * breaker open, connection refused), the run must have hit that participant — rules on its messages or its
 * dependency, kills or pauses of its processes — while the compensation was trying. Those faults are the explanation.
 */
import type { CheckContext } from './check-context.ts';
import type { SagaView } from './final-state.ts';

/** The service each compensation talks to, and what that service depends on. */
const TARGET: Record<string, { service: string; dependency?: string }> = {
  undoCreateOrder: { service: 'order' },
  undoReserveInventory: { service: 'inventory' },
  undoChargePayment: { service: 'payment', dependency: 'provider' },
  undoScheduleShipment: { service: 'shipping' },
};

const UNREACHABLE = /no reply within|circuit (is )?(open|half-open)|could not be reached|ECONNREFUSED|timed out|unavailable/;

/** How far before the compensation started a fault may still be the cause (a breaker stays open up to 60 s). */
const REACH_BACK_MS = 60_000;

/**
 * The explanation, or undefined when none of the run's faults accounts for the parking.
 *
 * @example
 * const why = explainParked(ctx, orderId, saga);
 * if (!why) ctx.violations.push({ check: 'sagas', message: `${orderId} parked for no injected reason` });
 */
export function explainParked(ctx: CheckContext, orderId: string, saga: SagaView): string | undefined {
  const log = saga.context.log;
  const reasons = log.map((l) => l.reason ?? '').filter(Boolean);
  const letters = ctx.state.deadLetters.filter((d) => d.orderId === orderId || d.actor.endsWith(`/${orderId}`));
  const named = [...reasons, ...letters.map((d) => d.error), ...ctx.replayed.filter((d) => d.actor.endsWith(`/${orderId}`)).map((d) => d.error)].find((r) =>
    r.includes('injected fault'),
  );
  if (named) return named;

  const undo = saga.context.parkedAt;
  const target = TARGET[undo];
  if (!target) return undefined;
  const tries = log.filter((l) => l.step === undo && (l.phase === 'retrying' || l.phase === 'parked'));
  if (tries.length === 0 || !tries.every((l) => UNREACHABLE.test(l.reason ?? ''))) return undefined;
  const from = (log.find((l) => l.step === undo && l.phase === 'compensating')?.at ?? tries[0]!.at) - REACH_BACK_MS;
  const to = tries.at(-1)!.at;

  const { rules, kills, pauses } = ctx.injector;
  const hitsTarget = (t: { service?: string; dependency?: string }) =>
    t.dependency ? t.dependency === target.dependency : t.service === target.service;
  const ruleHits = rules.filter((r) => r.id && hitsTarget(r.rule.target) && r.at <= to && r.at + r.rule.durationMs >= from);
  const processes = (name: string) => name === target.service || name.startsWith(`${target.service}-`) || name === target.dependency;
  const killHits = kills.filter((k) => processes(k.target) && k.at >= from && k.at <= to);
  const pauseHits = pauses.filter((p) => processes(p.target) && p.at + p.forMs >= from && p.at <= to);
  if (ruleHits.length + killHits.length + pauseHits.length === 0) return undefined;
  const kinds = ruleHits.map((r) => `${r.rule.kind}${r.rule.target.dependency ? ` on ${r.rule.target.dependency} calls` : ` on ${r.rule.target.service}`} (${r.id})`);
  return (
    `every attempt found ${target.dependency ?? target.service} unreachable (${tries.at(-1)!.reason}) while the run hit it: ` +
    [...new Set(kinds)].join(', ') +
    (killHits.length ? `${kinds.length ? '; ' : ''}${killHits.length} SIGKILL(s) of ${[...new Set(killHits.map((k) => k.target))].join(', ')}` : '') +
    (pauseHits.length ? `; ${pauseHits.length} pause(s)` : '')
  );
}
