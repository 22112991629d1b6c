import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { AskFailedError, AskTimeoutError, createNode, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { withFaults, type FaultLink } from '../../runtime/redis/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';
import { counter, flaky, sequencer } from '../fixtures/test-actors.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
const quiet = (e: unknown, w: string) => { if (process.env.DEBUG_NODE) console.error(w, String(e)); };

async function node(prefix: string, extra: Partial<Parameters<typeof createNode>[0]> = {}) {
  const n = await createNode({ service: 'svc', actors: [counter, sequencer, flaky], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4, onError: quiet, ...extra });
  nodes.push(n);
  return n;
}
function prefix(name: string) {
  const p = testPrefix(name);
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('node', () => {
  it('should apply sent events and answer asks after the turn committed', async () => {
    const p = prefix('basic');
    const n = await node(p);
    for (let i = 0; i < 5; i++) await n.send('svc/counter/a', { type: 'inc', by: 2 });
    const res = await n.ask<{ n: number }>('svc/counter/a', { type: 'get' });
    expect(res.context.n).toBe(10);
    expect(res.reply).toBe(10);
    expect(res.duplicate).toBe(false);
    // the state is in Redis, versioned
    const c = createClient({ url: SHARED_REDIS });
    await c.connect();
    const keys = partitionKeys(p, 'svc', partitionOf('svc/counter/a', 4));
    const stored = await c.hGetAll(keys.actor('counter', 'a'));
    await c.quit();
    expect(JSON.parse(stored.s!).s.context.n).toBe(10);
    expect(Number(stored.v)).toBeGreaterThanOrEqual(1);
  });

  it('should keep each sender’s order for 10,000 messages to 100 actors from 4 concurrent senders', async () => {
    const p = prefix('order');
    const consumer = await node(p, { partitions: 8 });
    const senders = await Promise.all([0, 1, 2, 3].map(() => node(p, { consume: false, partitions: 8 })));
    await Promise.all(
      senders.map(async (s, si) => {
        for (let seq = 0; seq < 25; seq++) {
          await Promise.all([...Array(100).keys()].map((a) => s.send(`svc/sequencer/a${a}`, { type: 'seq', sender: `s${si}`, seq })));
        }
      }),
    );
    const results = await Promise.all([...Array(100).keys()].map((a) => consumer.ask<{ count: number; violations: number; last: Record<string, number> }>(`svc/sequencer/a${a}`, { type: 'noop' }, { timeoutMs: 20_000 })));
    for (const r of results) {
      expect(r.context.violations).toBe(0);
      expect(r.context.count).toBe(100);
      expect(r.context.last).toEqual({ s0: 24, s1: 24, s2: 24, s3: 24 });
    }
  }, 60_000);

  it('should apply a message sent twice with the same id once, and say so to an asker', async () => {
    const p = prefix('dedup');
    const n = await node(p);
    await n.send('svc/counter/d', { type: 'inc' }, { id: 'same-id' });
    await n.send('svc/counter/d', { type: 'inc' }, { id: 'same-id' });
    const again = await n.ask('svc/counter/d', { type: 'inc' }, { id: 'same-id' });
    expect(again.duplicate).toBe(true);
    const res = await n.ask<{ n: number }>('svc/counter/d', { type: 'get' });
    expect(res.context.n).toBe(1);
  });

  it('should dead-letter a throwing message after exactly maxDeliveries while the partition keeps flowing', async () => {
    const p = prefix('dlq');
    const n = await node(p, { maxDeliveries: 5, retryBaseMs: 10, partitions: 1 });
    const failed = rejectionOf(n.ask('svc/flaky/f', { type: 'boom' }, { timeoutMs: 10_000 }));
    for (let i = 0; i < 20; i++) await n.send('svc/counter/other', { type: 'inc' });
    await n.send('svc/flaky/f', { type: 'ok' });
    const failure = await failed;
    expect(failure).toBeInstanceOf(AskFailedError);
    expect(failure.message).toContain('boom on purpose');
    const other = await n.ask<{ n: number }>('svc/counter/other', { type: 'get' });
    expect(other.context.n).toBe(20);
    const flakyState = await n.ask<{ ok: number }>('svc/flaky/f', { type: 'get' });
    expect(flakyState.context.ok).toBe(1); // the message after the poison one was applied, in order
    const letters = await n.deadLetters.list();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.deliveries).toBe(5);
    expect(letters[0]!.actor).toBe('svc/flaky/f');
    expect(letters[0]!.error).toContain('boom on purpose');
    expect(letters[0]!.event).toEqual({ type: 'boom' });
    // replay: it fails again five times and comes back; discard removes it
    await n.deadLetters.replay(letters[0]!.partition, letters[0]!.id);
    const back = await waitFor('the replayed message to be dead-lettered again', async () => {
      const l = await n.deadLetters.list();
      return l.length === 1 && l[0]!.id !== letters[0]!.id ? l : null;
    });
    expect(await n.deadLetters.discard(back[0]!.partition, back[0]!.id)).toBe(true);
    expect(await n.deadLetters.list()).toHaveLength(0);
  }, 30_000);

  it('should dead-letter malformed mailbox entries with a reason without stopping the partition', async () => {
    const p = prefix('malformed');
    const n = await node(p, { partitions: 1 });
    const c = createClient({ url: SHARED_REDIS });
    await c.connect();
    const mbox = partitionKeys(p, 'svc', 0).mbox;
    await n.send('svc/counter/m', { type: 'inc' });
    await c.xAdd(mbox, '*', { m: 'bad-1', a: 'svc/counter/m', e: '{not json' });
    await c.xAdd(mbox, '*', { garbage: 'yes' });
    await c.xAdd(mbox, '*', { m: 'bad-3', a: 'svc/nosuchtype/x', e: '{"type":"inc"}' });
    await c.xAdd(mbox, '*', { m: 'bad-4', a: 'not an address', e: '{"type":"inc"}' });
    await c.quit();
    await n.send('svc/counter/m', { type: 'inc' });
    const res = await n.ask<{ n: number }>('svc/counter/m', { type: 'get' });
    expect(res.context.n).toBe(2);
    const letters = await n.deadLetters.list();
    const errors = letters.map((l) => l.error).sort();
    expect(errors).toHaveLength(4);
    expect(errors.some((e) => e.includes('event is not JSON'))).toBe(true);
    expect(errors.some((e) => e.includes('no message id'))).toBe(true);
    expect(errors.some((e) => e.includes('no actor type "nosuchtype"'))).toBe(true);
    expect(errors.some((e) => e.includes('invalid actor address'))).toBe(true);
  });

  it('should fail an ask with a typed timeout when nobody processes the mailbox', async () => {
    const p = prefix('timeout');
    // The service ran once (so it is known), and all its nodes are gone now.
    await (await node(p, { service: 'nobody' })).stop();
    const n = await node(p, { consume: false });
    const err = await n.ask('nobody/counter/x', { type: 'get' }, { timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(AskTimeoutError);
    expect(err.timeoutMs).toBe(200);
    expect(err.message).toContain('nobody/counter/x');
  });

  it('should reject bad addresses and events with a clear error', async () => {
    const p = prefix('bad');
    const n = await node(p, { consume: false });
    expect((await rejectionOf(n.send('no-slashes', { type: 'x' }))).message).toContain('invalid actor address');
    expect((await rejectionOf(n.send('svc/counter/a', { nope: 1 } as never))).message).toContain('non-empty string "type"');
  });

  it('should passivate idle actors and restore them from Redis', async () => {
    const p = prefix('passivate');
    const { defineActor } = await import('../../runtime/index.ts');
    const quick = defineActor('counter', counter.machine, { passivateAfterMs: 0 });
    const n = await node(p, { actors: [quick], leaseTtlMs: 600 });
    for (let i = 0; i < 50; i++) await n.send(`svc/counter/p${i}`, { type: 'inc' });
    await n.ask('svc/counter/p0', { type: 'inc' });
    await waitFor('actors to leave memory', () => n.stats().cachedActors === 0, 5_000);
    const res = await n.ask<{ n: number }>('svc/counter/p0', { type: 'get' });
    expect(res.context.n).toBe(2);
  });

  it('should share partitions between two nodes of a service', async () => {
    const p = prefix('share');
    const a = await node(p, { leaseTtlMs: 600, partitions: 8 });
    const b = await node(p, { leaseTtlMs: 600, partitions: 8 });
    await waitFor('both nodes to own partitions, all 8 owned once', () => {
      const all = [...a.owned(), ...b.owned()].sort((x, y) => x - y);
      return a.owned().length > 0 && b.owned().length > 0 && all.join() === '0,1,2,3,4,5,6,7';
    });
    await b.stop();
    await waitFor('the remaining node to own every partition', () => a.owned().length === 8, 5_000);
  });
});

describe('node reads', () => {
  it('should read an actor’s committed state without a message and page through actors by type', async () => {
    const p = prefix('read');
    const n = await node(p, { partitions: 4 });
    expect(await n.read('svc/counter/none')).toBeNull();
    for (let i = 0; i < 30; i++) await n.send(`svc/counter/k${i}`, { type: 'inc', by: i });
    await n.send('svc/flaky/z', { type: 'ok' });
    await n.ask('svc/counter/k29', { type: 'get' });
    await waitFor('all counters committed', async () => (await n.list({ type: 'counter', count: 1000 })).items.length === 30);
    const view = await n.read<{ n: number }>('svc/counter/k7');
    expect(view).toMatchObject({ address: 'svc/counter/k7', context: { n: 7 }, status: 'active' });
    // Exact pages: every page but the last holds `count` items, no address comes twice, and together they are all.
    const pages: string[][] = [];
    let cursor: string | null | undefined;
    do {
      const page = await n.list({ type: 'counter', count: 7, cursor: cursor ?? undefined });
      pages.push(page.items.map((i) => i.address));
      cursor = page.cursor;
    } while (cursor);
    expect(pages.slice(0, -1).map((p) => p.length)).toEqual(Array(pages.length - 1).fill(7));
    expect(pages.at(-1)!.length).toBeLessThanOrEqual(7);
    const all = pages.flat();
    expect(all.length).toBe(30);
    expect(new Set(all).size).toBe(30);
    expect(all.sort()).toEqual([...Array(30).keys()].map((i) => `svc/counter/k${i}`).sort());
    // A state filter pages exactly too (counters k0..k29 hold n = i; none is filtered by state here, flaky ones are another type).
    const kept = await n.list({ type: 'counter', where: () => true, count: 30 });
    expect(kept.items).toHaveLength(30);
    expect((await rejectionOf(n.list({ cursor: 'not-a-cursor' }))).message).toContain('is not one this server handed out');
    expect((await n.list({ type: 'counter', match: 'k2*' })).items.map((i) => i.address).sort()).toEqual(
      ['svc/counter/k2', ...[...Array(10).keys()].map((i) => `svc/counter/k2${i}`)].sort(),
    );
    expect((await rejectionOf(n.read('other/counter/x'))).message).toContain('may only read its own actors');
  });
});

describe('node.waitFor', () => {
  it('should resolve once the actor commits a matching state, and time out with a typed error otherwise', async () => {
    const p = prefix('waitfor');
    const n = await node(p);
    const waiting = n.waitFor<{ n: number }>('svc/counter/w', (v) => v.context.n >= 3, { timeoutMs: 5_000 });
    for (let i = 0; i < 3; i++) await n.send('svc/counter/w', { type: 'inc' });
    expect((await waiting).context.n).toBe(3);
    const err = await n.waitFor('svc/counter/w', (v) => v.context.n > 100, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(AskTimeoutError);
  });
});

describe('node tells', () => {
  it('should treat a tell to a malformed address as a failed step and keep the partition flowing', async () => {
    const p = prefix('badtell');
    const { defineActor, tell } = await import('../../runtime/index.ts');
    const { setup } = await import('xstate');
    const teller = defineActor('teller', setup({}).createMachine({ on: { go: { actions: tell('garbage', { type: 'x' }) } } }));
    const n = await node(p, { actors: [counter, teller], partitions: 1, maxDeliveries: 2, retryBaseMs: 10 });
    const failed = await n.ask('svc/teller/t', { type: 'go' }, { timeoutMs: 5_000 }).catch((e) => e);
    expect(String(failed.message)).toContain('tell to an invalid address');
    await n.send('svc/counter/after', { type: 'inc' });
    expect((await n.ask<{ n: number }>('svc/counter/after', { type: 'get' })).context.n).toBe(1);
    expect((await n.deadLetters.list()).map((d) => d.actor)).toEqual(['svc/teller/t']);
  });
});

describe('mailbox trimming', () => {
  it('should trim processed entries but never an undelivered or pending one', async () => {
    const p = prefix('trim');
    const n = await node(p, { partitions: 1, leaseTtlMs: 600, maxDeliveries: 50, retryBaseMs: 10_000 });
    for (let i = 0; i < 100; i++) await n.send('svc/counter/t', { type: 'inc' });
    await n.ask('svc/counter/t', { type: 'get' });
    // a poison message stays pending (retried far in the future); entries after it must survive too
    await n.send('svc/flaky/t', { type: 'boom' });
    await n.send('svc/flaky/t', { type: 'ok' });
    const c = createClient({ url: SHARED_REDIS });
    await c.connect();
    const mbox = partitionKeys(p, 'svc', 0).mbox;
    await waitFor('the mailbox to be trimmed by the lease tick', async () => (await c.xLen(mbox)) <= 3, 5_000);
    const left = await c.xRange(mbox, '-', '+');
    expect((left ?? []).map((e) => JSON.parse(e.message.e!).type)).toEqual(expect.arrayContaining(['boom', 'ok']));
    await c.quit();
  });
});

describe('node.wrapLink', () => {
  it('should open its main connection and every partition doorbell through wrapLink, and keep working through a faulty one', async () => {
    const p = prefix('wrap');
    const roles: string[] = [];
    const links: FaultLink[] = [];
    const n = await node(p, {
      partitions: 2,
      wrapLink: (link, role) => {
        roles.push(role);
        const f = withFaults(link, { seed: 5, probability: { fail: 0.05, 'drop-reply': 0.05, latency: 0.1 }, healed: true });
        links.push(f);
        return f;
      },
    });
    for (const f of links) f.resume();
    for (let i = 0; i < 30; i++) {
      const id = `w-${i}`;
      for (;;) {
        try {
          await n.send('svc/counter/w', { type: 'inc' }, { id }); // a failed send is retried with its id: applied once
          break;
        } catch {}
      }
    }
    for (const f of links) f.heal();
    const res = await waitFor('the 30 increments', () => n.read<{ n: number }>('svc/counter/w').then((v) => (v?.context.n === 30 ? v : null)), 15_000);
    expect(res.context.n).toBe(30);
    expect(roles[0]).toBe('main');
    expect(roles.filter((r) => r === 'doorbell').length).toBeGreaterThanOrEqual(1);
    expect(links.reduce((s, f) => s + f.injected.fail + f.injected['drop-reply'], 0)).toBeGreaterThan(0);
  }, 30_000);
});
