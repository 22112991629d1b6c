/**
 * What the link chaos run holds the runtime to once the links have healed, as plain functions of what the clients
 * sent, what the subscriber saw and what Redis holds: adds applied exactly once (counters) and relayed exactly once
 * (mirrors); every ask answered and applied once; every armed timer fired once; every effect's outcome applied once;
 * every event seen, in order per aggregate, or a gap notice; and nothing left in transit (pending, undelivered,
 * outbox, timers, effects, dead letters). Each finding is a violation naming its check.
 */
import { partitionOf } from '../../../runtime/index.ts';
import type { AlarmContext, CounterContext, MirrorContext, PayerContext, PingerContext } from './actors.ts';
import { GAP_TYPE, type EventWatch } from './event-watch.ts';
import type { LinkFinalState } from './final-state.ts';
import type { LoadRecord } from './load.ts';

export type LinkViolation = { seed: number; check: string; detail: string };

export const LINK_CHECKS = ['counters', 'relay', 'asks', 'timers', 'effects', 'events', 'mailboxes', 'deadletters', 'idle', 'stop'] as const;

/** Lists at most `max` items. */
const some = (items: string[], max = 5) => (items.length > max ? `${items.slice(0, max).join('; ')}; … and ${items.length - max} more` : items.join('; '));

export function checkLinkRun(seed: number, partitions: number, record: LoadRecord, state: LinkFinalState, watch: EventWatch): LinkViolation[] {
  const out: LinkViolation[] = [];
  const fail = (check: string, items: string[], what: string) => {
    if (items.length) out.push({ seed, check, detail: `${what}: ${some(items)}` });
  };

  // counters and their mirrors
  const counters: string[] = [];
  const mirrors: string[] = [];
  for (const [address, sent] of record.adds) {
    const c = state.actors.get(address)?.context as CounterContext | undefined;
    if (!c || c.count !== sent.count || c.sum !== sent.sum) counters.push(`${address} applied ${c?.count ?? 0} adds (sum ${c?.sum ?? 0}), sent ${sent.count} (sum ${sent.sum})`);
    const m = state.actors.get(address.replace('/counter/', '/mirror/'))?.context as MirrorContext | undefined;
    if (!m || m.count !== (c?.count ?? 0) || m.sum !== (c?.sum ?? 0)) mirrors.push(`${address}'s mirror got ${m?.count ?? 0} (sum ${m?.sum ?? 0}) of ${c?.count ?? 0} (sum ${c?.sum ?? 0})`);
  }
  fail('counters', counters, 'adds not applied exactly once');
  fail('relay', mirrors, 'tells not relayed exactly once');
  if (record.abandoned) out.push({ seed, check: 'counters', detail: `${record.abandoned} send(s) still failing after the links healed` });

  // asks
  const asks: string[] = [];
  for (const [address, sent] of record.asks) {
    const p = state.actors.get(address)?.context as PingerContext | undefined;
    if ((p?.pings ?? 0) !== sent.sent) asks.push(`${address} applied ${p?.pings ?? 0} pings of ${sent.sent} asked (${sent.answered} answered)`);
  }
  fail('asks', asks, 'asks not applied exactly once');
  fail('asks', record.unanswered.map((u) => `${u.address} ${u.id}: ${u.error}`), 'asks never answered after healing');
  fail('asks', record.askFailures.map((u) => `${u.address} ${u.id}: ${u.error}`), 'asks answered with a failure');

  // timers
  const timers: string[] = [];
  for (const [address, s] of state.actors) {
    if (!address.includes('/alarm/')) continue;
    const a = s.context as AlarmContext;
    if (a.fires !== a.armed || s.state !== 'idle') timers.push(`${address} armed ${a.armed}, fired ${a.fires}, ${s.state}`);
  }
  fail('timers', timers, 'timers not fired exactly once');

  // effects
  const effects: string[] = [];
  for (const address of record.pays) {
    const s = state.actors.get(address);
    const f = s?.context as PayerContext | undefined;
    if (!s || !f) effects.push(`${address} never applied its pay`);
    else if (s.state !== 'paid' || f.outcomes !== 1 || f.strays !== 0) {
      // Whether the effect still waited for ran tells a lost outcome from an effect never (re)launched.
      const runs = s.effects.map((key) => `${key} ran ${state.ledger.get(key) ?? 0}×`).join(', ');
      effects.push(`${address} ${s.state}, ${f.outcomes} outcome(s) applied, ${f.strays} stray${runs ? ` (effect ${runs})` : ''}`);
    }
    else if (!state.ledger.get(f.key)) effects.push(`${address}: outcome applied but the effect ${f.key} never ran`);
  }
  fail('effects', effects, 'effect outcomes not applied exactly once');

  // events
  const events: string[] = [];
  const gapped = new Set(watch.gaps.map((g) => String(g.aggregate ?? `partition:${String(g.position).split(':')[0]}`)));
  for (const [address] of record.adds) {
    const count = (state.actors.get(address)?.context as CounterContext | undefined)?.count ?? 0;
    const seen = watch.byAggregate.get(address) ?? [];
    const idOfSeq = new Map<number, string>();
    let last = 0;
    for (const e of seen) {
      const before = idOfSeq.get(e.seq);
      if (before === undefined) {
        if (e.seq < last) events.push(`${address}: event ${e.seq} after ${last}`);
        idOfSeq.set(e.seq, e.id);
        last = Math.max(last, e.seq);
      } else if (before !== e.id) events.push(`${address}: event ${e.seq} published twice (ids ${before}, ${e.id})`);
    }
    const missing = [...Array(count).keys()].map((i) => i + 1).filter((s) => !idOfSeq.has(s));
    if (missing.length && !gapped.has(address) && !gapped.has(`partition:${partitionOf(address, partitions)}`)) {
      events.push(`${address}: ${missing.length} of ${count} events never seen (first ${missing[0]}) and no ${GAP_TYPE} notice`);
    }
  }
  fail('events', events, 'event log not seen once in order');

  // in transit
  const at = (m: { partition: number }) => `lk:${m.partition}`;
  fail('mailboxes', state.mailboxes.filter((m) => m.pending).map((m) => `${at(m)} ${m.pending} pending`), 'messages pending');
  fail('mailboxes', state.mailboxes.filter((m) => m.undelivered).map((m) => `${at(m)} ${m.undelivered}`), 'messages never delivered');
  fail('mailboxes', state.mailboxes.filter((m) => m.outbox).map((m) => `${at(m)} ${m.outbox}`), 'outbox entries never relayed');
  fail('mailboxes', state.mailboxes.filter((m) => m.timers).map((m) => `${at(m)} ${m.timers}`), 'timers still armed');
  fail('mailboxes', state.mailboxes.filter((m) => m.effects).map((m) => `${at(m)} ${m.effects}`), 'effects still recorded as running');
  // Nothing in this workload throws, so no dead letter has an explanation.
  fail('deadletters', state.deadLetters.map((d) => `${d.actor} ${d.event} after ${d.deliveries}: ${d.error}`), 'dead letters');
  return out;
}
