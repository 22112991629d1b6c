/**
 * A message a turn sends to an actor of the same partition is applied in the batch that sent it, its turn committed
 * with the sender's (`BatchApplier.applyLocal`), rather than appended to the mailbox and read back. These tests hold
 * it to what the mailbox guaranteed: each sender's order, a failing receiver, a resent id, chaos rules, and a loop
 * that never ends — and on the paths a fresh-eyes review of it found broken, each test failing before its fix: several
 * resent ids in one batch (the commit names one repeat at a time), and the doorbell read a commit sends beside it
 * answered before that commit appended a local message that went through the mailbox. Commits are watched (and held)
 * through a scripted link around a real connection to the shared Redis.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, enqueueActions, setup } from 'xstate';
import { createNode, defineActor, tell, type MailroomNode, type NodeOptions } from '../../runtime/index.ts';
import { openChaosStore } from '../../runtime/ops/index.ts';
import { messagesLocalTotal } from '../../runtime/observe/metrics.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { entryFields, newMessageId } from '../../runtime/node/envelope.ts';
import { counter, sequencer } from '../fixtures/test-actors.ts';
import { appendTogether, cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { isScript, ScriptedFaults } from '../helpers/scripted-link.ts';

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

/** Sequence numbers the `picky` receiver throws on, once each. */
const failOnce = new Set<number>();
/** Like the sequencer, but throws on a sequence number in `failOnce` (once). */
const picky = defineActor(
  'picky',
  setup({ types: {} as { context: { last: number; count: number; violations: number }; events: { type: 'seq'; seq: number } } }).createMachine({
    context: { last: -1, count: 0, violations: 0 },
    on: {
      seq: {
        actions: assign(({ context, event }) => {
          if (failOnce.delete(event.seq)) throw new Error(`picky refuses ${event.seq} once`);
          return { last: event.seq, count: context.count + 1, violations: context.violations + (event.seq === context.last + 1 ? 0 : 1) };
        }),
      },
    },
  }),
);
/** Tells the picky receiver `count` sequence numbers from `from`, in one turn. */
const toPicky = defineActor(
  'topicky',
  setup({ types: {} as { context: Record<string, never>; events: { type: 'burst'; from: number; count: number } } }).createMachine({
    context: {},
    on: {
      burst: {
        actions: enqueueActions(({ event, enqueue }: any) => {
          for (let seq = event.from; seq < event.from + event.count; seq++) enqueue(tell('loc/picky/p', { type: 'seq', seq }));
        }),
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

/** Tells `loc/sequencer/s1` and `loc/sequencer/s2` one `seq` each, with the message ids the event names. */
const fan = defineActor(
  'fan',
  setup({ types: {} as { context: { sent: number }; events: { type: 'fan'; a: string; b: string } } }).createMachine({
    context: { sent: 0 },
    on: {
      fan: {
        actions: [
          assign({ sent: ({ context }) => context.sent + 1 }),
          tell('loc/sequencer/s1', () => ({ type: 'seq', sender: 'fan', seq: 0 }), { id: ({ event }) => event.a }),
          tell('loc/sequencer/s2', () => ({ type: 'seq', sender: 'fan', seq: 0 }), { id: ({ event }) => event.b }),
        ],
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
    actors: [forwarder, fan, sequencer, picky, toPicky, pinger, counter],
    keyPrefix: p,
    redis: SHARED_REDIS,
    partitions: 1,
    retryBaseMs: 10,
    onError: () => {},
    wrapLink: faults.wrap,
    ...extra,
  });
  nodes.push(n);
  return { n, p, faults, batches, delivered: () => batches.filter((b) => b.includes('"m":[[')).length };
}

type Seq = { count: number; violations: number };

/** Appends messages to the partition's mailbox in one write, so that one read takes them all. */
const sendTogether = (p: string, ...messages: [address: string, event: object][]) =>
  appendTogether(partitionKeys(p, 'loc', 0).mbox, messages.map(([address, event]) => entryFields({ id: newMessageId(), address, event })));

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

  it('a message to a receiver whose mailbox entry failed earlier in the batch goes through the mailbox, behind the retry', async () => {
    const { n, p } = await node('blocked');
    failOnce.add(0);
    // Two entries in one write, so that one read takes both: seq 0 to picky (it fails, and picky waits for its retry),
    // then a burst that tells picky 1 and 2 — which must wait behind 0, not be applied here nor lost.
    await sendTogether(p, ['loc/picky/p', { type: 'seq', seq: 0 }], ['loc/topicky/t', { type: 'burst', from: 1, count: 2 }]);
    const picked = await waitFor('picky to count 3', async () => {
      const { context } = await n.ask<Seq & { last: number }>('loc/picky/p', { type: 'noop' } as never);
      return context.count === 3 ? context : null;
    });
    expect(failOnce.size).toBe(0);
    expect(picked).toMatchObject({ last: 2, violations: 0 });
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

  it('the same id told twice in one batch is applied once', async () => {
    const { n, p } = await node('twice');
    await sendTogether(p, ['loc/forwarder/f', { type: 'fwd', seq: 0, id: 'told-twice' }], ['loc/forwarder/f', { type: 'fwd', seq: 0, id: 'told-twice' }]);
    await waitFor('the forwarder to send twice', async () => (await n.ask<{ sent: number }>('loc/forwarder/f', { type: 'noop' } as never)).context.sent === 2);
    await n.send('loc/forwarder/f', { type: 'fwd', seq: 1 });
    const s = await sequenced(n, 2);
    expect(s.violations).toBe(0);
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

describe('local delivery under faults', () => {
  it('two resent ids to two receivers in one batch: the partition goes on (no -4 livelock)', async () => {
    const { n, faults } = await node('livelock');
    await n.send('loc/fan/f', { type: 'fan', a: 'id-a', b: 'id-b' });
    await waitFor('both sequencers to count 1', async () => {
      const s1 = await n.ask<{ count: number }>('loc/sequencer/s1', { type: 'noop' } as never);
      const s2 = await n.ask<{ count: number }>('loc/sequencer/s2', { type: 'noop' } as never);
      return s1.context.count === 1 && s2.context.count === 1 ? true : null;
    });
    // Count commits (not replies: a -4 is the script's answer, seen here as the batch being committed again).
    let commits = 0;
    faults.decide = (call) => {
      if (isScript(call, 'commitTurn')) commits++;
      return 'run';
    };
    // The same two ids again (a sender that resends under its own ids).
    await n.send('loc/fan/f', { type: 'fan', a: 'id-a', b: 'id-b' });
    await Bun.sleep(500);
    const commitsIn500ms = commits;
    // Anything else on the partition must still be processed. Before the fix: 'stalled' — the commit answered -4 for
    // id-a, then id-b, then id-a… (each repeat was forgotten once sent through the mailbox), hundreds of commits.
    const res = await Promise.race([n.ask<{ n: number }>('loc/counter/c', { type: 'inc' }).then((r) => r.context.n), Bun.sleep(3_000).then(() => 'stalled' as const)]);
    expect(res).toBe(1);
    expect(commitsIn500ms).toBeLessThan(10);
  }, 15_000);

  it('armed doorbell read answered before the commit lands: a local message must not overtake the earlier one in the mailbox', async () => {
    const { n, faults } = await node('armed');
    failOnce.add(0);
    let delayed = false;
    faults.decide = (call) => {
      const batch = ScriptedFaults.commitBatch(call);
      // The commit that appends seq 0 (its local step failed) to the partition's own mailbox: held 150 ms in the
      // client while the armed doorbell XREAD (sent right behind it) is in Redis; another sender's entry comes meanwhile.
      if (batch !== undefined && !delayed && batch.includes('"m":[[')) {
        delayed = true;
        setTimeout(() => void n.send('loc/topicky/t', { type: 'burst', from: 1, count: 1 }), 60);
        return { afterMs: 150, then: 'run' };
      }
      return 'run';
    };
    // Let the doorbell open first (a wait after an idle read).
    await Bun.sleep(200);
    // Warm up: reads by cursor, nothing pending, so that the doorbell's entries stand for the next read.
    for (let i = 0; i < 3; i++) {
      await n.send('loc/counter/c', { type: 'inc' });
      await Bun.sleep(50);
    }
    await n.send('loc/topicky/t', { type: 'burst', from: 0, count: 1 });
    await Bun.sleep(1_000);
    const p = await waitFor('picky to count 2', async () => {
      const { context } = await n.ask<{ count: number; violations: number; last: number }>('loc/picky/p', { type: 'noop' } as never);
      return context.count === 2 ? context : null;
    });
    expect(delayed).toBe(true);
    // Before the fix: violations 2, last 0 — seq 1 applied locally before seq 0, which sat in the mailbox.
    expect(p.violations).toBe(0);
    expect(p.last).toBe(1);
  }, 15_000);
});
