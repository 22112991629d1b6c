/**
 * Nothing left in transit: in every partition's mailbox of every service no entry is pending in the consumer group
 * and none is waiting undelivered, no outbox entry is left to relay and no effect is still running. Every dead letter
 * is listed with its reason: one is accounted for when an injected fault made its turn fail every time (the reason
 * says so; the run replays those after healing, as an operator would), and any other is a violation.
 */
import { some, type CheckContext } from './check-context.ts';

const CHECK = 'mailboxes';

export function checkMailboxes(ctx: CheckContext): void {
  const { state, violations, notes } = ctx;
  const fail = (message: string) => violations.push({ check: CHECK, message });

  const at = (m: { service: string; partition: number }) => `${m.service}:${m.partition}`;
  const pending = state.mailboxes.filter((m) => m.pending > 0);
  if (pending.length) fail(`messages pending in consumer groups: ${some(pending, (m) => `${at(m)} ${m.pending}`)}`);
  const undelivered = state.mailboxes.filter((m) => m.undelivered > 0);
  if (undelivered.length) fail(`messages never delivered: ${some(undelivered, (m) => `${at(m)} ${m.undelivered}`)}`);
  const outbox = state.mailboxes.filter((m) => m.outbox > 0);
  if (outbox.length) fail(`outbox entries never relayed: ${some(outbox, (m) => `${at(m)} ${m.outbox}`)}`);
  const effects = state.mailboxes.filter((m) => m.effects > 0);
  if (effects.length) fail(`effects still recorded as running: ${some(effects, (m) => `${at(m)} ${m.effects}`)}`);
  const timers = state.mailboxes.reduce((s, m) => s + m.timers, 0);
  notes.push(`mailboxes: ${state.mailboxes.length} checked, 0 pending expected, ${timers} durable timer(s) still armed`);
  if (state.missing.length) fail(`actors listed in the index with no committed record: ${some(state.missing, (a) => a)}`);

  if (ctx.replayed.length) {
    notes.push(`dead letters replayed after healing (an injected fault failed every delivery): ${ctx.replayed.length}`);
    for (const d of ctx.replayed) notes.push(`  replayed ${d.service}:${d.partition} ${d.actor} ${d.event.type ?? '?'} after ${d.deliveries}: ${d.error}`);
  }
  const accounted = state.deadLetters.filter((d) => d.error.includes('injected fault'));
  const unexplained = state.deadLetters.filter((d) => !d.error.includes('injected fault'));
  const byReason = new Map<string, number>();
  for (const d of state.deadLetters) {
    const key = `${d.service} ${d.event}: ${d.error.replace(/chaos rule r-[\w-]+/, 'chaos rule …')}`;
    byReason.set(key, (byReason.get(key) ?? 0) + 1);
  }
  notes.push(`dead letters: ${state.deadLetters.length} (${accounted.length} from injected faults)${byReason.size ? ` — ${[...byReason].map(([r, n]) => `${n}× ${r}`).join('; ')}` : ''}`);
  for (const d of state.deadLetters) notes.push(`  dead letter ${d.service}:${d.partition} ${d.id} ${d.actor} ${d.event} after ${d.deliveries}: ${d.error}`);
  if (unexplained.length) fail(`dead letters no injected fault explains: ${some(unexplained, (d) => `${d.actor} ${d.event}: ${d.error}`)}`);
}
