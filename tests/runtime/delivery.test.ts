/**
 * How a committed turn's messages reach their mailboxes. On one Redis the commit script appends them itself
 * (`delivery: 'commit'`): nothing goes through the partition's outbox, and a message is in its mailbox exactly when
 * the turn that sent it committed. A cluster and commit replicas relay them through the outbox (`delivery: 'relay'`),
 * and refuse `commit`. A node that takes over from a relaying owner delivers that owner's outbox before its own first
 * commit, so a sender's order holds across the switch.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { setup } from 'xstate';
import { createNode, defineActor, tell, type MailroomNode, type NodeOptions } from '../../runtime/index.ts';
import { deliveryOf } from '../../runtime/config.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { entryFields, newMessageId } from '../../runtime/node/envelope.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { counter, sequencer } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';
import { isScript, ScriptedFaults, type Call } from '../helpers/scripted-link.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
const links: RedisLink[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const l of links) await l.close().catch(() => {});
  for (const p of prefixes) await cleanupPrefix(p);
});

function prefix(name: string): string {
  const p = testPrefix(`delivery-${name}`);
  prefixes.push(p);
  return p;
}

async function redis(): Promise<RedisLink> {
  const link = await openLink(SHARED_REDIS, 'node-redis');
  links.push(link);
  return link;
}

/** Tells the sequencer `seq` for every `fwd`, and a counter on the other partition `inc` (a message that crosses partitions). */
const forwarder = defineActor(
  'forwarder',
  setup({ types: {} as { context: Record<string, never>; events: { type: 'fwd'; seq: number } } }).createMachine({
    context: {},
    on: { fwd: { actions: [tell('svc/sequencer/s', ({ event }) => ({ type: 'seq', sender: 'f', seq: event.seq })), tell('svc/counter/c', { type: 'inc' })] } },
  }),
);

async function node(p: string, faults: ScriptedFaults | null, extra: Partial<NodeOptions> = {}): Promise<MailroomNode> {
  const n = await createNode({
    service: 'svc',
    actors: [counter, sequencer, forwarder],
    keyPrefix: p,
    redis: SHARED_REDIS,
    partitions: 2,
    onError: () => {},
    wrapLink: faults ? faults.wrap : undefined,
    ...extra,
  });
  nodes.push(n);
  return n;
}

const mailboxAdds = (calls: Call[], p: string) => calls.filter((c) => c.args[0] === 'XADD' && String(c.args[1]).startsWith(`${p}:{svc:`) && String(c.args[1]).endsWith(':mbox'));
/** Writes to an outbox from outside the commit script: the relay's deletes (a sweep's reads do not count). */
const outboxWrites = (calls: Call[]) => calls.filter((c) => ['XADD', 'XDEL'].includes(String(c.args[0])) && String(c.args[1]).endsWith(':outbox'));
/** A relay's delivery of the sequencer's messages: a lone XADD or the script for several to one mailbox. */
const deliversToSequencer = (c: Call) =>
  (c.args[0] === 'XADD' || isScript(c, 'relayMessages')) && c.args.some((a) => typeof a === 'string' && a.includes('svc/sequencer/s'));

/** Waits until the sequencer has `count` messages of f; they must have come in order, and the outbox be empty. */
async function expectAllInOrder(n: MailroomNode, count: number, link: RedisLink, outbox: string): Promise<void> {
  const seq = await n.waitFor<{ count: number; violations: number }>('svc/sequencer/s', (v) => v.context.count === count, { timeoutMs: 15_000 });
  expect(seq.context.violations).toBe(0);
  expect(Number(await link.call(['XLEN', outbox]))).toBe(0);
}

describe('delivery of a turn’s messages', () => {
  it('should append them in the commit itself on one Redis: no outbox entry, no relay call', async () => {
    const p = prefix('commit');
    const faults = new ScriptedFaults();
    const n = await node(p, faults);
    for (let seq = 0; seq < 5; seq++) await n.send('svc/forwarder/f', { type: 'fwd', seq });
    const seq = await n.waitFor<{ count: number; violations: number }>('svc/sequencer/s', (v) => v.context.count === 5, { timeoutMs: 5_000 });
    expect(seq.context.violations).toBe(0);
    expect((await n.waitFor<{ n: number }>('svc/counter/c', (v) => v.context.n === 5, { timeoutMs: 5_000 })).context.n).toBe(5);
    // The only mailbox XADDs are the test's own five sends; the ten tells came with their commits.
    expect(mailboxAdds(faults.calls, p).length).toBe(5);
    expect(outboxWrites(faults.calls)).toEqual([]);
    const link = await redis();
    for (const partition of [0, 1]) expect(await link.call(['EXISTS', partitionKeys(p, 'svc', partition).outbox])).toBe(0);
    expect(faults.scriptCalls('relayMessages').length).toBe(0);
  }, 20_000);

  const askRelay: [string, Partial<NodeOptions>, Record<string, string>][] = [
    ['by the node option', { delivery: 'relay' }, {}],
    ['by MAILROOM_DELIVERY', {}, { MAILROOM_DELIVERY: 'relay' }],
  ];
  it.each(askRelay)('should go through the outbox when relaying is asked for %s', async (_, options, env) => {
    const p = prefix('relay');
    const faults = new ScriptedFaults();
    const before = process.env.MAILROOM_DELIVERY;
    Object.assign(process.env, env);
    let n: MailroomNode;
    try {
      n = await node(p, faults, options);
    } finally {
      if (before === undefined) delete process.env.MAILROOM_DELIVERY;
      else process.env.MAILROOM_DELIVERY = before;
    }
    for (let seq = 0; seq < 5; seq++) await n.send('svc/forwarder/f', { type: 'fwd', seq });
    const seq = await n.waitFor<{ count: number; violations: number }>('svc/sequencer/s', (v) => v.context.count === 5, { timeoutMs: 5_000 });
    expect(seq.context.violations).toBe(0);
    await n.waitFor<{ n: number }>('svc/counter/c', (v) => v.context.n === 5, { timeoutMs: 5_000 });
    // Besides the five sends, the relay's deliveries, and each outbox entry deleted once relayed.
    const relayed = mailboxAdds(faults.calls, p).length - 5 + faults.scriptCalls('relayMessages').length;
    expect(relayed).toBeGreaterThanOrEqual(1);
    expect(outboxWrites(faults.calls).filter((c) => c.args[0] === 'XDEL').length).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('should deliver what a relaying owner left in its outbox before the new owner’s own messages', async () => {
    const p = prefix('switch');
    const faults = new ScriptedFaults();
    const k = partitionKeys(p, 'svc', 0);
    // The relaying owner cannot deliver to the sequencer: its first turn's messages stay in its outbox, and its
    // partition retries the sweep instead of reading on.
    faults.decide = (call) => (deliversToSequencer(call) ? 'fail' : 'run');
    const relaying = await node(p, faults, { delivery: 'relay', partitions: 1 });
    for (let seq = 0; seq < 6; seq++) await relaying.send('svc/forwarder/f', { type: 'fwd', seq });
    const link = await redis();
    await waitFor('an outbox entry the relay could not deliver', async () => Number(await link.call(['XLEN', k.outbox])) >= 1, 5_000);
    await relaying.stop();
    expect(faults.calls.filter(deliversToSequencer).length).toBeGreaterThanOrEqual(1);
    const committing = await node(p, null, { delivery: 'commit', partitions: 1 });
    // Its own turns' messages, delivered by its commits, come after the relaying owner's.
    for (let seq = 6; seq < 9; seq++) await committing.send('svc/forwarder/f', { type: 'fwd', seq });
    await expectAllInOrder(committing, 9, link, k.outbox);
  }, 30_000);

  it('should deliver an outbox longer than a sweep’s page before its first commit', async () => {
    const p = prefix('long-outbox');
    const k = partitionKeys(p, 'svc', 0);
    const link = await redis();
    // What a relaying owner that died with 600 undelivered commits left behind: one outbox entry per commit.
    const mbox = k.mbox;
    for (let seq = 0; seq < 600; seq++) {
      const fields = entryFields({ id: newMessageId(), address: 'svc/sequencer/s', event: { type: 'seq', sender: 'f', seq }, from: 'svc/forwarder/f' });
      await link.call(['XADD', k.outbox, '*', 'm', JSON.stringify([{ mbox, fields }])]);
    }
    const committing = await node(p, null, { delivery: 'commit', partitions: 1 });
    for (let seq = 600; seq < 605; seq++) await committing.send('svc/forwarder/f', { type: 'fwd', seq });
    await expectAllInOrder(committing, 605, link, k.outbox);
  }, 30_000);
});

/**
 * A running partition (its lease held by a node) and a commit call made by hand with `batch` (plus a new actor's
 * write and a processed id), to a mailbox of another service; what it answered, and what it left in Redis.
 */
async function commitByHand(name: string, batch: Record<string, unknown>, before?: (link: RedisLink, target: string) => Promise<void>) {
  const p = prefix(name);
  const n = await node(p, null, { partitions: 1 });
  await n.send('svc/counter/a', { type: 'inc' });
  await n.waitFor('svc/counter/a', (v) => v.context.n === 1, { timeoutMs: 5_000 });
  const link = await redis();
  const k = partitionKeys(p, 'svc', 0);
  const target = partitionKeys(p, 'other', 0).mbox;
  await before?.(link, target);
  const keys = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry, k.actor('counter', 'z'), target];
  const lease = String(await link.call(['GET', k.lease]));
  const payload = JSON.stringify({ s: ['m-by-hand'], x: [['0', '1', '{"s":{}}', 'counter/z', 'idle', false]], ...batch });
  const res = (await scripts.commitTurn.run(link, keys, [lease, 'svc', Date.now(), 60_000, 1_000, payload, 1_000])) as [number, string];
  return {
    res,
    wroteRecord: Number(await link.call(['EXISTS', k.actor('counter', 'z')])) === 1,
    markedSeen: (await link.call(['ZSCORE', k.seen, 'm-by-hand'])) !== null,
    targetType: String(await link.call(['TYPE', target])),
  };
}

describe('the commit script’s messages', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['a mailbox number past the keys given', { m: [[2, 'm', 'id', 'a', 'svc/counter/a']], mk: 1 }],
    ['a mailbox number that is a string', { m: [['1', 'm', 'id', 'a', 'svc/counter/a']], mk: 1 }],
    ['a field that is not a string', { m: [[1, 'm', 7]], mk: 1 }],
    ['an odd list of fields', { m: [[1, 'm', 'id', 'a']], mk: 1 }],
    ['a count of mailboxes that is not a number', { m: [[1, 'm', 'id']], mk: '1' }],
    ['more mailbox keys than the count says', { m: [[1, 'm', 'id']], mk: 0 }],
    ['messages that are not a list', { m: 'x', mk: 1 }],
    ['messages both in the outbox and to their mailboxes', { m: [[1, 'm', 'id']], mk: 1, o: '[]' }],
  ];
  it.each(cases)('should refuse %s before writing anything', async (_, bad) => {
    const out = await commitByHand('script', bad);
    expect(out.res[0]).toBe(ScriptCode.InvalidArgument);
    expect(out).toMatchObject({ wroteRecord: false, markedSeen: false, targetType: 'none' });
  }, 20_000);

  it('should refuse a mailbox key that holds something other than a stream before writing anything', async () => {
    const out = await commitByHand('wrongtype', { m: [[1, 'm', 'id', 'a', 'other/x/y']], mk: 1 }, async (link, target) => void (await link.call(['SET', target, 'not a stream'])));
    expect(out.res[0]).toBe(ScriptCode.InvalidArgument);
    expect(out.res[1]).toContain('not a stream');
    expect(out).toMatchObject({ wroteRecord: false, markedSeen: false, targetType: 'string' });
  }, 20_000);

  it('should append a well-formed message to its mailbox in the same call', async () => {
    const out = await commitByHand('well-formed', { m: [[1, 'm', 'id', 'a', 'other/x/y']], mk: 1 });
    expect(out.res[0]).toBe(ScriptCode.Ok);
    expect(out).toMatchObject({ wroteRecord: true, markedSeen: true, targetType: 'stream' });
  }, 20_000);
});

describe('choosing the delivery', () => {
  it('should read MAILROOM_DELIVERY, and refuse anything but commit or relay, naming the variable', () => {
    expect(deliveryOf({})).toBeUndefined();
    expect(deliveryOf({ MAILROOM_DELIVERY: '' })).toBeUndefined();
    expect(deliveryOf({ MAILROOM_DELIVERY: 'commit' })).toBe('commit');
    expect(deliveryOf({ MAILROOM_DELIVERY: 'relay' })).toBe('relay');
    expect(() => deliveryOf({ MAILROOM_DELIVERY: 'outbox' })).toThrow('MAILROOM_DELIVERY=outbox is not a delivery: use commit (one Redis, the default there) or relay');
  });

  it('should refuse commit with commit replicas, and a delivery that is neither, before connecting', async () => {
    const p = prefix('refused');
    const withReplicas = await rejectionOf(node(p, null, { delivery: 'commit', commitReplicas: 1 }));
    expect(withReplicas.message).toBe(
      'delivery "commit" cannot wait for replicas before a message leaves: with commitReplicas, messages are relayed (delivery "relay")',
    );
    const unknown = await rejectionOf(node(p, null, { delivery: 'outbox' as never }));
    expect(unknown.message).toBe('delivery must be "commit" or "relay", got "outbox"');
  });

  it('should refuse commit on a cluster, before connecting', async () => {
    const refused = await rejectionOf(node(prefix('cluster'), null, { delivery: 'commit', redis: 'redis-cluster://127.0.0.1:1' }));
    expect(refused.message).toContain('delivery "commit" needs one Redis');
  });
});
