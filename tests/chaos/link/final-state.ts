/**
 * The link chaos run's state once the links have healed, read straight from Redis on a connection of its own: each
 * mailbox (pending in the group, never delivered, outbox, armed timers, recorded effects, dead letters), the
 * committed state of every actor the clients used, and the payers' effect ledger.
 */
import { createClient } from 'redis';
import { partitionOf } from '../../../runtime/index.ts';
import { partitionKeys } from '../../../runtime/keys.ts';
import { compareIds } from '../final-state.ts';
import { SERVICE } from './actors.ts';

const client = (url: string) => createClient({ url });
type Client = ReturnType<typeof client>;

/** The run's own connection for reading (and for the thief's and the checks' needs): no faults on it. */
export async function openReader(url: string): Promise<Client> {
  const c = client(url);
  c.on('error', () => {});
  await c.connect();
  return c;
}

export type LinkMailbox = { partition: number; pending: number; undelivered: number; outbox: number; timers: number; effects: number };
export type LinkDeadLetter = { partition: number; actor: string; event: string; error: string; deliveries: number };
export type ActorState<C> = { state: string; context: C; /** Keys of the effects its record says are running. */ effects: string[] };

export type LinkFinalState = {
  mailboxes: LinkMailbox[];
  deadLetters: LinkDeadLetter[];
  /** Address → committed state (absent: never committed). */
  actors: Map<string, ActorState<any>>;
  /** Effect idempotency key → how many times the effect ran. */
  ledger: Map<string, number>;
};

const fieldsOf = (flat: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};

async function mailbox(redis: Client, prefix: string, partition: number): Promise<LinkMailbox> {
  const k = partitionKeys(prefix, SERVICE, partition);
  const [summary, groups, last, outbox, timers, effects] = await Promise.all([
    redis.sendCommand(['XPENDING', k.mbox, SERVICE]).catch(() => [0]) as Promise<unknown[]>,
    redis.sendCommand(['XINFO', 'GROUPS', k.mbox]).catch(() => []) as Promise<unknown[]>,
    redis.sendCommand(['XREVRANGE', k.mbox, '+', '-', 'COUNT', '1']) as Promise<[string, string[]][]>,
    redis.xLen(k.outbox),
    redis.zCard(k.timers),
    redis.hLen(k.effects),
  ]);
  const group = groups.map((g) => (Array.isArray(g) ? fieldsOf(g as string[]) : (g as Record<string, string>))).find((g) => g.name === SERVICE);
  const delivered = String(group?.['last-delivered-id'] ?? '0-0');
  let undelivered = 0;
  if (last[0] && compareIds(last[0][0], delivered) > 0) undelivered = ((await redis.sendCommand(['XRANGE', k.mbox, `(${delivered}`, '+'])) as unknown[]).length;
  return { partition, pending: Number(summary[0] ?? 0), undelivered, outbox: Number(outbox), timers: Number(timers), effects: Number(effects) };
}

async function deadLetters(redis: Client, prefix: string, partition: number): Promise<LinkDeadLetter[]> {
  const rows = (await redis.sendCommand(['XRANGE', partitionKeys(prefix, SERVICE, partition).dlq, '-', '+'])) as [string, string[]][];
  return rows.map(([, flat]) => {
    const f = fieldsOf(flat);
    let event = '?';
    try {
      event = (JSON.parse(f.e ?? '{}') as { type?: string }).type ?? '?';
    } catch {}
    return { partition, actor: f.a ?? '?', event, error: f.error ?? '', deliveries: Number(f.deliveries ?? 0) };
  });
}

/** The committed state of an actor of the test service, or undefined if it never committed a turn. */
export async function readActor<C>(redis: Client, prefix: string, partitions: number, address: string): Promise<ActorState<C> | undefined> {
  const [, type, id] = address.split('/') as [string, string, string];
  const raw = await redis.hGet(partitionKeys(prefix, SERVICE, partitionOf(address, partitions)).actor(type, id), 's');
  if (!raw) return undefined;
  const record = JSON.parse(raw) as { s: { value: unknown; context: C }; f?: Record<string, string> };
  const snap = record.s;
  return { state: typeof snap.value === 'string' ? snap.value : JSON.stringify(snap.value), context: snap.context, effects: Object.values(record.f ?? {}) };
}

export async function readLinkState(redis: Client, prefix: string, partitions: number, addresses: readonly string[], ledgerKey: string): Promise<LinkFinalState> {
  const cells = [...Array(partitions).keys()];
  const [mailboxes, letters, states, ledger] = await Promise.all([
    Promise.all(cells.map((p) => mailbox(redis, prefix, p))),
    Promise.all(cells.map((p) => deadLetters(redis, prefix, p))),
    Promise.all(addresses.map((a) => readActor(redis, prefix, partitions, a))),
    redis.hGetAll(ledgerKey),
  ]);
  const actors = new Map<string, ActorState<any>>();
  addresses.forEach((a, i) => {
    if (states[i]) actors.set(a, states[i]!);
  });
  return {
    mailboxes,
    deadLetters: letters.flat(),
    actors,
    ledger: new Map(Object.entries(ledger).map(([k, v]) => [k, Number(v)])),
  };
}
