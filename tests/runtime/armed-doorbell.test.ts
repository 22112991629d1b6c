/**
 * The doorbell's read sent with the commit: a batch that took everything there was sends its partition's next
 * doorbell `XREAD` right behind its commit, not after the commit's answer, so Redis takes both in one wake. What must hold:
 * the read goes out before the commit is answered; whatever the commit's outcome — committed, a version conflict that
 * wrote nothing, a lost answer that sends the owner through a takeover — every message is applied once; and a takeover
 * drops a read sent before it, with its connection if it still blocks (a fresh one is opened at the next wait, again
 * if opening it fails once), rather than take its answer as the read after the new position.
 */
import { afterAll, beforeEach, describe, expect, it } from 'bun:test';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import type { RedisArg, RedisLink } from '../../runtime/redis/index.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { isScript } from '../helpers/scripted-link.ts';
import { rejectionOf } from '../helpers/rejection.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { PartitionReader } from '../../runtime/node/partition-reader.ts';
import { ScriptCode } from '../../runtime/redis/script.ts';

type Sent = { role: string; args: RedisArg[]; sentAt: number; answeredAt?: number; reply?: unknown };

/**
 * Watches every call of a node's links; `slowCommits` ms are added to each commit's answer (after it ran), and
 * `loseNext` loses the answer of the next commit (it runs; the node hears an error).
 */
class Watch {
  readonly sent: Sent[] = [];
  slowCommits = 0;
  loseNext = false;
  wrap = (link: RedisLink, role: string): RedisLink => ({
    call: async (args, routeKey) => {
      const call: Sent = { role, args, sentAt: performance.now() };
      this.sent.push(call);
      const reply = await link.call(args, routeKey);
      call.reply = reply;
      if (isScript({ role, args, at: call.sentAt }, 'commitTurn')) {
        if (this.slowCommits > 0) await Bun.sleep(this.slowCommits);
        if (this.loseNext) {
          this.loseNext = false;
          call.answeredAt = performance.now();
          throw new Error('injected: the answer to a commit was lost');
        }
      }
      call.answeredAt = performance.now();
      return reply;
    },
    close: () => link.close(),
    abort: () => link.abort(),
  });
  commits(since: number): Sent[] {
    return this.sent.filter((c) => c.sentAt >= since && isScript({ role: c.role, args: c.args, at: c.sentAt }, 'commitTurn'));
  }
  doorbellReads(since: number): Sent[] {
    return this.sent.filter((c) => c.sentAt >= since && c.role === 'doorbell' && c.args[0] === 'XREAD');
  }
}

const prefix = testPrefix('armed-doorbell');
const nodes: MailroomNode[] = [];
const errors: string[] = [];
let n = 0;
beforeEach(() => {
  errors.length = 0;
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop().catch(() => {})));
  await cleanupPrefix(prefix);
});

async function start(watch: Watch): Promise<MailroomNode> {
  const node = await createNode({ service: 'svc', actors: [counter], keyPrefix: `${prefix}-${n++}`, redis: SHARED_REDIS, partitions: 1, onError: (e) => errors.push(String(e)), wrapLink: watch.wrap });
  nodes.push(node);
  // Past its first wait, so the doorbell is open and the partition reads by cursor.
  for (let i = 0; i < 3; i++) await node.ask('svc/counter/c', { type: 'inc' });
  await Bun.sleep(50);
  return node;
}

const count = async (node: MailroomNode) => ((await node.ask('svc/counter/c', { type: 'get' })) as { reply: unknown }).reply;

describe('the doorbell read sent with the commit', () => {
  it('should go out beside the commit, before the commit is answered', async () => {
    const watch = new Watch();
    const node = await start(watch);
    watch.slowCommits = 150;
    const since = performance.now();
    await node.send('svc/counter/c', { type: 'inc' });
    await waitFor('the message applied and its commit answered', async () => watch.commits(since).some((c) => c.answeredAt !== undefined), 5_000);
    const commit = watch.commits(since)[0]!;
    // The first doorbell read since the message came (the one that brought it was sent before).
    const read = watch.doorbellReads(since)[0];
    expect(read).toBeDefined();
    // Sent beside the commit, while its answer was still 150 ms away: in the same Redis wake, not one after it.
    expect(Math.abs(read!.sentAt - commit.sentAt)).toBeLessThan(50);
    expect(read!.sentAt).toBeLessThan(commit.answeredAt!);
    watch.slowCommits = 0;
    expect(await count(node)).toBe(4);
    expect(errors).toEqual([]);
  });

  it('should apply each message once when a commit answer is lost while its doorbell read is out', async () => {
    const watch = new Watch();
    const node = await start(watch);
    watch.loseNext = true;
    await node.send('svc/counter/c', { type: 'inc' });
    await waitFor('the lost answer heard', async () => errors.some((e) => e.includes('answer to a commit was lost')), 5_000);
    // The owner starts over (a takeover of its own partition) with the read it sent still out.
    for (let i = 0; i < 5; i++) await node.send('svc/counter/c', { type: 'inc' });
    await waitFor('the 6 increments applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 9, 10_000);
    await Bun.sleep(100);
    expect(await count(node)).toBe(9);
  });

  it('should apply each message once when a commit writes nothing (a version conflict) while its doorbell read is out', async () => {
    const watch = new Watch();
    const node = await start(watch);
    // Another writer moves the actor's version under the owner: its next commit conflicts and writes nothing.
    const keys = partitionKeys(`${prefix}-${n - 1}`, 'svc', 0);
    const since = performance.now();
    const shared = await openLink(SHARED_REDIS, 'node-redis');
    await shared.call(['HINCRBY', keys.actor('counter', 'c'), 'v', 1]);
    await shared.close();
    for (let i = 0; i < 4; i++) await node.send('svc/counter/c', { type: 'inc' });
    await waitFor('the 4 increments applied', async () => (await node.read<{ n: number }>('svc/counter/c'))?.context.n === 7, 10_000);
    await Bun.sleep(100);
    expect(await count(node)).toBe(7);
    expect(watch.commits(since).some((c) => Array.isArray(c.reply) && Number(c.reply[0]) === ScriptCode.VersionConflict)).toBe(true);
  });
});

describe('a reader with its doorbell read out', () => {
  /** A reader of a fresh mailbox whose doorbell links are counted (opened, aborted) and whose `failOpens` next opens fail. */
  async function reader() {
    const keys = partitionKeys(`${prefix}-reader-${n++}`, 'svc', 0);
    const link = await openLink(SHARED_REDIS, 'bun');
    await link.call(['SET', keys.lease, 'me|1']);
    await link.call(['XGROUP', 'CREATE', keys.mbox, 'svc', '0', 'MKSTREAM']);
    const bells = { opened: 0, aborted: 0, failOpens: 0, reads: 0 };
    const r = new PartitionReader(
      {
        link,
        group: 'svc',
        consumer: 'me',
        batchSize: 10,
        openDoorbell: async () => {
          if (bells.failOpens > 0) {
            bells.failOpens--;
            throw new Error('injected: the doorbell could not connect');
          }
          const bell = await openLink(SHARED_REDIS, 'bun', { blocking: true });
          bells.opened++;
          return { call: (args, routeKey) => (args[0] === 'XREAD' && bells.reads++, bell.call(args, routeKey)), close: () => bell.close(), abort: () => void (bells.aborted++, bell.abort()) };
        },
      },
      keys,
      'me|1',
    );
    // A read that found nothing, and a first wait: the doorbell is open and the reader has taken all there was.
    expect(await r.read([])).toMatchObject({ raw: [] });
    await r.wait(20, () => true);
    return { r, bells, link, keys };
  }

  it('should drop, with its connection, a read sent before a takeover, and wait on a fresh one', async () => {
    const { r, bells, link, keys } = await reader();
    r.arm(10_000);
    r.reset();
    expect(bells.aborted).toBe(1);
    const waited = r.wait(5_000, () => true);
    await Bun.sleep(50);
    await link.call(['XADD', keys.mbox, '*', 'm', 'x', 'a', 'svc/counter/c', 'e', '{"type":"inc"}']);
    await waited;
    // Rung by the new entry on a new connection, not left behind the 10 s read asked for before the takeover.
    expect(bells.opened).toBe(2);
    r.close();
    await link.close();
  });

  it('should leave a read still blocking when a wait must end (a timer due) for the next wait, sending no other behind it', async () => {
    const { r, bells, link, keys } = await reader();
    const readsBefore = bells.reads;
    r.arm(10_000);
    // The wait ends at 20 ms with the 10 s read still out (a timer fell due): the next wait takes it up again.
    await r.wait(20, () => true);
    const waited = r.wait(5_000, () => true);
    await Bun.sleep(50);
    await link.call(['XADD', keys.mbox, '*', 'm', 'y', 'a', 'svc/counter/c', 'e', '{"type":"inc"}']);
    const rang = await Promise.race([waited.then(() => true), Bun.sleep(2_000).then(() => false)]);
    // Rung by the entry: a second read sent on that connection would have queued behind the first for its 10 s.
    expect(rang).toBe(true);
    expect(bells.reads - readsBefore).toBe(1);
    expect(bells.opened).toBe(1);
    r.close();
    await link.close();
  });

  it('should open the doorbell again at the next wait when reopening it failed', async () => {
    const { r, bells, link } = await reader();
    r.arm(10_000);
    r.reset();
    bells.failOpens = 1;
    expect((await rejectionOf(r.wait(20, () => true))).message).toContain('could not connect');
    await r.wait(20, () => true);
    expect(bells.opened).toBe(2);
    r.close();
    expect(bells.aborted).toBe(2);
    await link.close();
  });
});
