/**
 * A message a turn sends to an actor of the same partition is applied in the batch that sent it, its turn committed
 * with the sender's (`BatchApplier.applyLocal`), rather than appended to the mailbox and read back. These tests hold
 * it to what the mailbox guaranteed: each sender's order, a failing receiver, a resent id, chaos rules, and a loop
 * that never ends. Commits are watched through a scripted link around a real connection to the shared Redis.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, tell, type MailroomNode, type NodeOptions } from '../../runtime/index.ts';
import { openChaosStore } from '../../runtime/ops/index.ts';
import { messagesLocalTotal } from '../../runtime/observe/metrics.ts';
import { failOnce, picky, toPicky } from '../fixtures/local-actors.ts';
import { counter, sequencer } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { ScriptedFaults } from '../helpers/scripted-link.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

/** Forwards `fwd` as `seq` to the sequencer `loc/sequencer/s`; with `id`, the tell carries that message id. */
const forwarder = defineActor(
  'forwarder',
  setup({ types: {} as { context: { sent: number }; events: { type: 'fwd'; seq: number; id?: string } } }).createMachine({
    context: { sent: 0 },
    on: {
      fwd: {
        actions: [
          assign({ sent: ({ context }) => context.sent + 1 }),
          tell('loc/sequencer/s', ({ event }) => ({ type: 'seq', sender: 'f', seq: event.seq }), { id: ({ event }) => event.id ?? crypto.randomUUID() }),
        ],
      },
    },
  }),
);

/** Two of these tell each other `ping` forever. */
const pinger = defineActor(
  'pinger',
  setup({ types: {} as { context: { pings: number }; events: { type: 'ping'; to: string; back: string } } }).createMachine({
    context: { pings: 0 },
    on: {
      ping: {
        actions: [assign({ pings: ({ context }) => context.pings + 1 }), tell(({ event }) => event.to, ({ event }) => ({ type: 'ping', to: event.back, back: event.to }))],
      },
    },
  }),
);

/** A node of service `loc` on one partition (every actor local to every other), its commits' batches recorded. */
async function node(name: string, extra: Partial<NodeOptions> = {}) {
  const p = testPrefix(`local-${name}`);
  prefixes.push(p);
  const faults = new ScriptedFaults();
  const batches: string[] = [];
  faults.decide = (call) => {
    const batch = ScriptedFaults.commitBatch(call);
    if (batch !== undefined) batches.push(batch);
    return 'run';
  };
  const n = await createNode({
    service: 'loc',
    actors: [forwarder, sequencer, picky, toPicky, pinger, counter],
    keyPrefix: p,
    redis: SHARED_REDIS,
    partitions: 1,
    retryBaseMs: 10,
    onError: () => {},
    wrapLink: faults.wrap,
    ...extra,
  });
  nodes.push(n);
  return { n, p, batches, delivered: () => batches.filter((b) => b.includes('"m":[[')).length };
}

type Seq = { count: number; violations: number };
/** `mailroom_messages_local_total` of service `loc` (the process's registry: a running total over this file's tests). */
const localCount = () => messagesLocalTotal.get().values.find((v) => v.labels.service === 'loc')?.value ?? 0;
const sequenced = (n: MailroomNode, count: number) => waitFor(`the sequencer to count ${count}`, async () => {
  const { context } = await n.ask<Seq>('loc/sequencer/s', { type: 'noop' } as never);
  return context.count === count ? context : null;
});

describe('local delivery', () => {
  it.each([true, false])('a message to an actor of the same partition is applied in the batch that sent it, in order (local %p)', async (local) => {
    const { n, delivered } = await node(`order-${local}`, { localDelivery: local });
    const before = localCount();
    for (let seq = 0; seq < 60; seq++) await n.send('loc/forwarder/f', { type: 'fwd', seq });
    const s = await sequenced(n, 60);
    expect(s.violations).toBe(0);
    expect(localCount() - before).toBe(local ? 60 : 0);
    // Applied locally, no commit appended a message to a mailbox; through the mailbox, the forwarder's commits did.
    if (local) expect(delivered()).toBe(0);
    else expect(delivered()).toBeGreaterThan(0);
  });

  it('a message whose receiver fails goes through the mailbox, and the later ones to that receiver keep their order', async () => {
    const { n, delivered } = await node('fails');
    failOnce.add(3);
    failOnce.add(7);
    // Sent in two turns, so that the failures and the messages behind them are in the batches that sent them.
    await n.send('loc/topicky/t', { type: 'burst', from: 0, count: 6 });
    await n.send('loc/topicky/t', { type: 'burst', from: 6, count: 6 });
    const p = await waitFor('picky to count 12', async () => {
      const { context } = await n.ask<Seq & { last: number }>('loc/picky/p', { type: 'noop' } as never);
      return context.count === 12 ? context : null;
    });
    expect(p.violations).toBe(0);
    expect(p.last).toBe(11);
    expect(failOnce.size).toBe(0);
    // The failed ones (and any sent behind them in their batch) went through the mailbox.
    expect(delivered()).toBeGreaterThan(0);
  });

  it('a resent message with the id of one processed before is not applied twice, and its sender goes on', async () => {
    const { n } = await node('resend');
    await n.send('loc/forwarder/f', { type: 'fwd', seq: 0, id: 'the-same-id' });
    await sequenced(n, 1);
    // The same id again: the commit finds it processed, and the batch sends it through the mailbox instead.
    await n.send('loc/forwarder/f', { type: 'fwd', seq: 0, id: 'the-same-id' });
    await n.send('loc/forwarder/f', { type: 'fwd', seq: 1 });
    const s = await sequenced(n, 2);
    expect(s.violations).toBe(0);
    const f = await n.ask<{ sent: number }>('loc/forwarder/f', { type: 'noop' } as never);
    expect(f.context.sent).toBe(3);
  });

  it('a chaos rule that could hit a message is applied to it as to any other (here: every one dropped)', async () => {
    const { n, p } = await node('chaos');
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: p });
    const rule = await store.add({ kind: 'drop', target: { service: 'loc', messageType: 'seq' }, probability: 1, durationMs: 60_000 });
    await waitFor('the node to see the rule', () => n.chaos.active.some((r) => r.id === rule.id));
    for (let seq = 0; seq < 5; seq++) await n.send('loc/forwarder/f', { type: 'fwd', seq });
    await waitFor('the forwarder to send 5', async () => (await n.ask<{ sent: number }>('loc/forwarder/f', { type: 'noop' } as never)).context.sent === 5);
    expect((await n.ask<Seq>('loc/sequencer/s', { type: 'noop' } as never)).context.count).toBe(0);
    await store.remove(rule.id);
    await waitFor('the rule to be gone', () => n.chaos.active.length === 0);
    await n.send('loc/forwarder/f', { type: 'fwd', seq: 0 });
    await sequenced(n, 1);
    await store.close();
  });

  it('two actors telling each other forever leave the partition free for other messages', async () => {
    const { n, delivered } = await node('loop');
    await n.send('loc/pinger/a', { type: 'ping', to: 'loc/pinger/b', back: 'loc/pinger/a' });
    // Each batch applies at most a batch's worth locally; the rest goes through the mailbox, between other entries.
    for (let i = 1; i <= 3; i++) {
      const { context } = await n.ask<{ n: number }>('loc/counter/c', { type: 'inc' });
      expect(context.n).toBe(i);
    }
    await waitFor('the pingers to go past a batch', async () => (await n.ask<{ pings: number }>('loc/pinger/a', { type: 'noop' } as never)).context.pings > 300);
    expect(delivered()).toBeGreaterThan(0);
  });
});
