/**
 * Waiting for the system to settle after healing: every order has its saga, every saga is in a final state
 * (completed, compensated, or parked for an operator), no reservation is still holding or waiting for its commit or
 * release, no mailbox has a message pending or an outbox entry to relay, and the notifications service has read and
 * applied every order event. Read cheaply from the actor indexes and the consumer groups, every 250 ms.
 */
import { SERVICE_NAMES } from '../../services/config.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { compareIds } from './final-state.ts';
import type { Monitor } from './recovery.ts';

export type Unsettled = {
  sagasOpen: number;
  ordersWithoutSaga: number;
  reservationsOpen: number;
  pending: number;
  outbox: number;
  /** Order events the notifications group has not yet read and acked, and notice messages not yet applied. */
  notices: number;
};

const FINAL = new Set(['completed', 'compensated', 'failedNeedsOperator']);
const PARTITIONS = 8;

/** What is still moving, from the indexes (`type/id` → state) and the consumer groups. */
export async function unsettled(redis: Monitor, prefix: string): Promise<Unsettled> {
  let sagas = 0;
  let sagasOpen = 0;
  let orders = 0;
  let reservationsOpen = 0;
  let pending = 0;
  let outbox = 0;
  const parked = new Set<string>();
  for (let p = 0; p < PARTITIONS; p++) {
    const orderIndex = await redis.hGetAll(partitionKeys(prefix, 'order', p).index);
    for (const [field, state] of Object.entries(orderIndex)) {
      if (field.startsWith('fulfillment/')) {
        sagas++;
        const top = state.split('.')[0]!;
        if (!FINAL.has(top)) sagasOpen++;
        if (top === 'failedNeedsOperator') parked.add(field.slice('fulfillment/'.length));
      } else if (field.startsWith('order/') && state !== 'draft') orders++;
    }
  }
  for (let p = 0; p < PARTITIONS; p++) {
    // A parked saga keeps what it could not undo (a reservation, a charge) until an operator acts.
    const inventoryIndex = await redis.hGetAll(partitionKeys(prefix, 'inventory', p).index);
    for (const [field, state] of Object.entries(inventoryIndex)) {
      if (field.startsWith('reservation/') && (state === 'holding' || state === 'reserved') && !parked.has(field.slice('reservation/'.length))) reservationsOpen++;
    }
    for (const service of SERVICE_NAMES) {
      const k = partitionKeys(prefix, service, p);
      const summary = (await redis.sendCommand(['XPENDING', k.mbox, service]).catch(() => [0])) as unknown[];
      pending += Number(summary[0] ?? 0);
      outbox += await redis.xLen(k.outbox);
    }
  }
  return { sagasOpen, ordersWithoutSaga: Math.max(0, orders - sagas), reservationsOpen, pending, outbox, notices: await noticesBehind(redis, prefix) };
}

export const isSettled = (u: Unsettled) => u.sagasOpen + u.ordersWithoutSaga + u.reservationsOpen + u.pending + u.outbox + u.notices === 0;

/**
 * How far the notifications service is behind: on every slice of the order log, the notifications group's pending
 * entries, plus one while the slice holds entries past the group's last delivered one (or any entry and no group
 * yet); and the same on each of its own mailboxes for the notice messages.
 */
async function noticesBehind(redis: Monitor, prefix: string): Promise<number> {
  let behind = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    behind += await groupBehind(redis, partitionKeys(prefix, 'order', p).events, 'notifications');
    behind += await groupBehind(redis, partitionKeys(prefix, 'notifications', p).mbox, 'notifications');
  }
  return behind;
}

async function groupBehind(redis: Monitor, stream: string, name: string): Promise<number> {
  const [last] = (await redis.sendCommand(['XREVRANGE', stream, '+', '-', 'COUNT', '1'])) as [string, string[]][];
  if (!last) return 0;
  const groups = (await redis.sendCommand(['XINFO', 'GROUPS', stream]).catch(() => [])) as unknown[];
  const group = groups.map((g) => (Array.isArray(g) ? fieldsOf(g as string[]) : (g as Record<string, string>))).find((g) => g.name === name);
  if (!group) return 1;
  return Number(group.pending ?? 0) + (compareIds(last[0], String(group['last-delivered-id'])) > 0 ? 1 : 0);
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = String(flat[i + 1]);
  return out;
}

/**
 * Polls until settled (and `ready()` says the customers have their answers) or `deadline` (ms since the epoch);
 * resolves with when it settled (undefined if it did not) and what was still moving last.
 */
export async function waitSettled(redis: Monitor, prefix: string, deadline: number, ready: () => boolean): Promise<{ at: number | undefined; last: Unsettled | undefined }> {
  let last: Unsettled | undefined;
  while (Date.now() < deadline) {
    try {
      last = await unsettled(redis, prefix);
      if (ready() && isSettled(last)) return { at: Date.now(), last };
    } catch {
      // Redis busy or reconnecting: look again
    }
    await Bun.sleep(250);
  }
  return { at: undefined, last };
}
