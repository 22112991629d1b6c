/**
 * A message the partition gives up on: its entry's fields plus why, how often it was tried, and where it was,
 * written to the partition's dead-letter stream in the batch's commit, with an inspection event and — when its
 * sender is waiting — a failed answer.
 */
import type { InspectionEvent } from '../inspection.ts';
import type { Batch } from './batch.ts';
import { fieldsToRecord, replyToOf } from './envelope.ts';

export type DeadLetterPlace = { service: string; partition: number };

/**
 * Adds a dead letter (and the entry's ack) to a batch; `now` (the node's clock) is when it failed, `actorVersion`
 * the version of the actor's state the message failed against (time travel opens it there), when an actor had one.
 */
export function addDeadLetter(batch: Batch, place: DeadLetterPlace, streamId: string, fields: readonly string[], deliveries: number, error: unknown, why: string, now: number, actorVersion?: number): void {
  const message = error instanceof Error ? error.message : String(error);
  const reason = `${why}: ${message}`;
  const rec = fieldsToRecord(fields);
  const letter = [...fields, 'error', reason, 'deliveries', String(deliveries), 'partition', String(place.partition), 'entry', streamId, 'failedAt', String(now)];
  if (actorVersion !== undefined && actorVersion > 0) letter.push('actorVersion', String(actorVersion));
  batch.deadLetters.push(letter);
  batch.acks.push(streamId);
  if (rec.m) batch.triesDel.push(rec.m);
  const inspection: InspectionEvent = {
    type: 'deadletter',
    at: now,
    source: place.service,
    actor: rec.a ?? '?',
    event: eventTypeOf(rec.e),
    messageId: rec.m ?? streamId,
    error: reason,
    deliveries,
    partition: place.partition,
  };
  batch.inspections.push(inspection);
  // Only a well-formed reply-to is answered: a malformed entry's `r` may be anything (`null` once crashed the commit).
  const replyTo = replyToOf(rec.r);
  if (replyTo) batch.replies.push({ to: replyTo, payload: { q: '', ok: false, error: reason } });
}

function eventTypeOf(json: string | undefined): string {
  try {
    const type = (JSON.parse(json ?? '{}') as { type?: unknown }).type;
    return typeof type === 'string' ? type : '?';
  } catch {
    return '?';
  }
}
