/**
 * The shape of a mailbox entry. Field `m` (the message id) always comes first: the read script checks it against
 * the processed set without parsing anything else.
 *
 *   m  message id (dedup key)        a  actor address          e  event (JSON)
 *   t  sent at (ms, fractional)      r  reply-to (JSON)        k  kind: '' | 'timer' | 'effect'
 *   f  sender's address, if an actor sent it
 *   p  W3C traceparent of the span that sent it, when tracing is on and that trace is recorded (`runtime/observe/tracing.ts`)
 */

export type ReplyTo = { n: string; q: string };

export type Envelope = {
  id: string;
  streamId: string;
  address: string;
  event: { type: string; [k: string]: unknown };
  sentAt: number;
  replyTo?: ReplyTo;
  kind?: string;
  from?: string;
  deliveries: number;
  /** The sender's span, when tracing is on. */
  traceparent?: string;
  /** The span of the turn applying this message (set while it is applied, when tracing is on). */
  turnTrace?: string;
};

/** The stream id of a message applied in the batch that sent it (local delivery): it never was a mailbox entry. */
export const LOCAL_STREAM_ID = '';

export class MalformedEntryError extends Error {
  readonly code = 'MALFORMED_ENTRY';
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const preciseNow = () => performance.timeOrigin + performance.now();

/** A new message id: time-ordered and unique across processes. */
export const newMessageId = (): string => Bun.randomUUIDv7();

/** Fields of a new mailbox entry, `m` first. */
export function entryFields(msg: {
  id: string;
  address: string;
  event: unknown;
  replyTo?: ReplyTo;
  kind?: string;
  from?: string;
  sentAt?: number;
  traceparent?: string;
}): string[] {
  const fields = ['m', msg.id, 'a', msg.address, 'e', JSON.stringify(msg.event), 't', String(msg.sentAt ?? preciseNow())];
  if (msg.replyTo) fields.push('r', JSON.stringify(msg.replyTo));
  if (msg.kind) fields.push('k', msg.kind);
  if (msg.from) fields.push('f', msg.from);
  if (msg.traceparent) fields.push('p', msg.traceparent);
  return fields;
}

export function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const rec: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
  return rec;
}

/**
 * The reply-to of an entry's field `r`, or undefined unless it is the `{n, q}` the runtime writes (`null`, a number
 * or bad JSON there must not reach the code that answers the asker).
 *
 * @example
 * replyToOf('{"n":"node-1","q":"7"}'); // { n: 'node-1', q: '7' }
 * replyToOf('null'); // undefined
 */
export function replyToOf(raw: string | undefined): ReplyTo | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const r = value as { n?: unknown; q?: unknown } | null;
  return r !== null && typeof r === 'object' && typeof r.n === 'string' && typeof r.q === 'string' ? { n: r.n, q: r.q } : undefined;
}

/** Parses a mailbox entry, or throws `MalformedEntryError` saying what is wrong with it. */
export function parseEntry(streamId: string, fields: readonly string[], deliveries: number, now: number): Envelope {
  const f = fieldsToRecord(fields);
  if (!f.m) throw new MalformedEntryError('entry has no message id (field "m")');
  if (!f.a) throw new MalformedEntryError('entry has no actor address (field "a")');
  if (f.e === undefined) throw new MalformedEntryError('entry has no event (field "e")');
  let event: unknown;
  try {
    event = JSON.parse(f.e);
  } catch {
    throw new MalformedEntryError(`event is not JSON: ${f.e.slice(0, 80)}`);
  }
  if (!event || typeof event !== 'object' || typeof (event as { type?: unknown }).type !== 'string') {
    throw new MalformedEntryError('event must be an object with a string "type"');
  }
  let replyTo: ReplyTo | undefined;
  if (f.r) {
    replyTo = replyToOf(f.r);
    if (!replyTo) throw new MalformedEntryError(`reply-to (field "r") is not {"n": node id, "q": ask id}: ${f.r.slice(0, 80)}`);
  }
  const sentAt = Number(f.t);
  return {
    id: f.m,
    streamId,
    address: f.a,
    event: event as Envelope['event'],
    sentAt: Number.isFinite(sentAt) ? sentAt : now,
    replyTo,
    kind: f.k,
    from: f.f,
    deliveries,
    traceparent: f.p,
    // Declared here so that setting it while tracing keeps every envelope one shape.
    turnTrace: undefined,
  };
}

/** An envelope's entry fields again, as it was sent (to dead-letter it, or to deliver a copy). */
export function envelopeFields(env: Envelope): string[] {
  return entryFields({ id: env.id, address: env.address, event: env.event, replyTo: env.replyTo, kind: env.kind, from: env.from, sentAt: env.sentAt, traceparent: env.traceparent });
}

/** The effect an outcome message (kind `effect`, id `<effect key>:outcome`) reports on, or undefined. */
export function outcomeOf(env: Envelope): { invokeId: string; key: string } | undefined {
  if (env.kind !== 'effect' || !env.id.endsWith(':outcome')) return undefined;
  const match = /^xstate\.(?:done|error)\.actor\.(.+)$/.exec(env.event.type);
  return match ? { invokeId: match[1]!, key: env.id.slice(0, -':outcome'.length) } : undefined;
}
