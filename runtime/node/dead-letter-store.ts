/**
 * A service's dead letters read back from its partitions' dead-letter streams (`dead-letter.ts` writes them in a
 * turn's commit): the newest ones, a replay into the mailbox, a discard. A node offers these for its own service;
 * the operations side's cluster view for any service.
 */
import { partitionKeys } from '../keys.ts';
import { hashReply, type RedisLink } from '../redis/link.ts';
import { scripts } from '../redis/script.ts';

export type DeadLetter = {
  partition: number;
  id: string;
  messageId: string;
  actor: string;
  event: unknown;
  error: string;
  deliveries: number;
  failedAt: number;
  /** The version of the actor's state the message failed against (absent when it had none, or before time travel). */
  actorVersion?: number;
};

/** The newest dead letters of a service (one partition or all), newest first. */
export async function listDeadLettersAt(link: RedisLink, prefix: string, service: string, partitions: number, options: { partition?: number; count?: number } = {}): Promise<DeadLetter[]> {
  const count = options.count ?? 100;
  const parts = options.partition === undefined ? [...Array(partitions).keys()] : [options.partition];
  const out: DeadLetter[] = [];
  for (const p of parts) {
    const rows = (await link.call(['XREVRANGE', partitionKeys(prefix, service, p).dlq, '+', '-', 'COUNT', count])) as [string, string[]][];
    for (const [id, fields] of rows) out.push(toDeadLetter(p, id, fields));
  }
  return out.sort((a, b) => b.failedAt - a.failedAt).slice(0, count);
}

/** Puts a dead letter back into its mailbox; the new mailbox entry id, or null when there is no such dead letter. */
export async function replayDeadLetterAt(link: RedisLink, prefix: string, service: string, partition: number, id: string): Promise<string | null> {
  const keys = partitionKeys(prefix, service, partition);
  const res = await scripts.replayDeadLetter.run(link, [keys.dlq, keys.mbox], [id]);
  return res === -2 || res === '-2' ? null : String(res);
}

/** Removes a dead letter; false when there was none. */
export async function discardDeadLetterAt(link: RedisLink, prefix: string, service: string, partition: number, id: string): Promise<boolean> {
  return Number(await link.call(['XDEL', partitionKeys(prefix, service, partition).dlq, id])) === 1;
}

function toDeadLetter(partition: number, id: string, fields: string[]): DeadLetter {
  const f = hashReply(fields);
  let event: unknown = f.e;
  try {
    event = JSON.parse(f.e ?? 'null');
  } catch {}
  return {
    partition,
    id,
    messageId: f.m ?? '',
    actor: f.a ?? '',
    event,
    error: f.error ?? '',
    deliveries: Number(f.deliveries ?? 0),
    failedAt: Number(f.failedAt ?? 0),
    ...(f.actorVersion ? { actorVersion: Number(f.actorVersion) } : {}),
  };
}
