/**
 * Local delivery (`BatchApplier.applyLocal`) on the paths a fresh-eyes review of it found broken, each test failing
 * before its fix: several resent ids in one batch (the commit names one repeat at a time), and the doorbell read a
 * commit sends beside it answered before that commit appended a local message that went through the mailbox.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, tell, type MailroomNode, type NodeOptions } from '../../runtime/index.ts';
import { failOnce, picky, toPicky } from '../fixtures/local-actors.ts';
import { counter, sequencer } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { isScript, ScriptedFaults } from '../helpers/scripted-link.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

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

async function node(name: string, faults: ScriptedFaults, extra: Partial<NodeOptions> = {}) {
  const p = testPrefix(`local-faults-${name}`);
  prefixes.push(p);
  const n = await createNode({
    service: 'loc',
    actors: [fan, sequencer, counter, picky, toPicky],
    keyPrefix: p,
    redis: SHARED_REDIS,
    partitions: 1,
    retryBaseMs: 10,
    onError: () => {},
    wrapLink: faults.wrap,
    ...extra,
  });
  nodes.push(n);
  return n;
}

describe('local delivery under faults', () => {
  it('two resent ids to two receivers in one batch: the partition goes on (no -4 livelock)', async () => {
    const faults = new ScriptedFaults();
    const n = await node('livelock', faults);
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
    const faults = new ScriptedFaults();
    const n = await node('armed', faults);
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
