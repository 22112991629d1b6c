/**
 * Time travel: every committed version of an actor is listed and rebuilt exactly from what the commit script wrote
 * in the same step as the record; retention per actor type; the script refuses a malformed history before writing.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { openClusterView, type ClusterView } from '../../runtime/ops/index.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { LARGE_RECORD } from '../../runtime/node/batch-commit.ts';
import { counter, flaky } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
const views: ClusterView[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const v of views) await v.close().catch(() => {});
  for (const p of prefixes) await cleanupPrefix(p);
});

const lamp = (keep: number) =>
  defineActor(
    'lamp',
    setup({ types: {} as { context: { flips: number }; events: { type: 'flip' } } }).createMachine({
      context: { flips: 0 },
      initial: 'off',
      states: {
        off: { on: { flip: { target: 'on', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
        on: { on: { flip: { target: 'off', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
      },
    }),
    { history: { keep } },
  );

/** Keeps every note it is given: its record grows with each. */
const scribe = defineActor(
  'scribe',
  setup({ types: {} as { context: { notes: string[] }; events: { type: 'note'; text: string } } }).createMachine({
    context: { notes: [] },
    on: { note: { actions: assign({ notes: ({ context, event }) => [...context.notes, event.text] }) } },
  }),
  { history: { keep: 10 } },
);

async function setupNode(name: string, keep: number) {
  const p = testPrefix(`tt-${name}`);
  prefixes.push(p);
  const n = await createNode({ service: 'svc', actors: [counter, defineActor('flaky', flaky.machine, { history: { keep: 50 } }), lamp(keep), scribe], keyPrefix: p, redis: SHARED_REDIS, partitions: 2, maxDeliveries: 2, retryBaseMs: 10, onError: () => {} });
  nodes.push(n);
  const view = await openClusterView({ redis: SHARED_REDIS, keyPrefix: p });
  views.push(view);
  return { p, n, view };
}

describe('time travel', () => {
  it('should list every committed version, newest first, with the message that made it and the state it left', async () => {
    const { n, view } = await setupNode('list', 50);
    const snapshots: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      await n.ask('svc/lamp/a', { type: 'flip' });
      snapshots.push((await view.actors.read('svc/lamp/a'))!);
    }
    const page = await view.actors.history('svc/lamp/a', { offset: 0, limit: 10 });
    expect(page.total).toBe(4);
    expect(page.newest).toBe(4);
    expect(page.oldest).toBe(1);
    expect(page.items.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect(page.items.map((v) => v.state)).toEqual(['off', 'on', 'off', 'on']);
    expect(page.items.every((v) => v.causes.length === 1 && v.causes[0]!.type === 'flip' && v.causes[0]!.id.length > 0)).toBe(true);
    expect(new Set(page.items.map((v) => v.causes[0]!.id)).size).toBe(4);
    // each version rebuilt equals what the actor read right after it committed
    for (let v = 1; v <= 4; v++) {
      const at = (await view.actors.at('svc/lamp/a', v))!;
      const then = snapshots[v - 1] as { state: string; context: unknown; version: number };
      expect(at.version).toBe(then.version);
      expect(at.state).toBe(then.state);
      expect(at.context).toEqual(then.context);
    }
    // paging
    const second = await view.actors.history('svc/lamp/a', { offset: 2, limit: 2 });
    expect(second.items.map((v) => v.version)).toEqual([2, 1]);
    expect(await view.actors.at('svc/lamp/a', 5)).toBeNull();
    expect(await view.actors.at('svc/lamp/a', 0)).toBeNull();
  });

  it('should keep only the last `history.keep` versions, and none with 0', async () => {
    const { p, n, view } = await setupNode('keep', 2);
    // The list is trimmed in bulk, once it outgrew `keep` by a quarter (here by 1): it may hold one version more,
    // which no reader shows.
    const key = partitionKeys(p, 'svc', partitionOf('svc/lamp/c', 2)).history('lamp', 'c');
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const lengths: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        await n.ask('svc/lamp/c', { type: 'flip' });
        lengths.push(Number(await link.call(['LLEN', key])));
      }
    } finally {
      await link.close();
    }
    expect(lengths).toEqual([1, 2, 3, 2, 3]);
    const page = await view.actors.history('svc/lamp/c', { offset: 0, limit: 10 });
    expect(page.items.map((v) => v.version)).toEqual([5, 4]);
    expect([page.total, page.newest, page.oldest]).toEqual([2, 5, 4]);
    expect((await view.actors.history('svc/lamp/c', { offset: 1, limit: 10 })).items.map((v) => v.version)).toEqual([4]);
    expect((await view.actors.history('svc/lamp/c', { offset: 2, limit: 10 })).items).toEqual([]);
    expect(await view.actors.at('svc/lamp/c', 3)).toBeNull();
    expect((await view.actors.at('svc/lamp/c', 4))!.context).toEqual({ flips: 4 });

    const off = await setupNode('off', 0);
    await off.n.ask('svc/lamp/d', { type: 'flip' });
    expect((await off.view.actors.read('svc/lamp/d'))!.version).toBe(1);
    expect((await off.view.actors.history('svc/lamp/d', { offset: 0, limit: 10 })).total).toBe(0);
  });

  it('should show every entry of a history written before entries said how many are kept, and the newest `k` of one that says so, whatever its commit time looks like', async () => {
    const { p, view } = await setupNode('legacy', 2);
    const key = partitionKeys(p, 'svc', partitionOf('svc/lamp/old', 2)).history('lamp', 'old');
    const link = await openLink(SHARED_REDIS, 'node-redis');
    try {
      for (let v = 1; v <= 3; v++) await link.call(['LPUSH', key, JSON.stringify({ v, at: v, c: [], r: { s: { value: 'on', status: 'active', context: { flips: v } } } })]);
    } finally {
      await link.close();
    }
    const page = await view.actors.history('svc/lamp/old', { offset: 0, limit: 10 });
    expect([page.items.map((v) => v.version), page.total, page.oldest]).toEqual([[3, 2, 1], 3, 1]);
    expect((await view.actors.at('svc/lamp/old', 1))!.context).toEqual({ flips: 1 });
    // The same list as a clock with fractions of a millisecond writes it, with `k`: only the newest 2 are held.
    const fractional = partitionKeys(p, 'svc', partitionOf('svc/lamp/frac', 2)).history('lamp', 'frac');
    const again = await openLink(SHARED_REDIS, 'node-redis');
    try {
      for (let v = 1; v <= 3; v++) await again.call(['LPUSH', fractional, `{"v":${v},"at":${v}.5,"k":2,"c":[],"r":{"s":{"value":"on","status":"active","context":{"flips":${v}}}}}`]);
    } finally {
      await again.close();
    }
    const held = await view.actors.history('svc/lamp/frac', { offset: 0, limit: 10 });
    expect([held.items.map((v) => v.version), held.total, held.oldest]).toEqual([[3, 2], 2, 2]);
    expect(await view.actors.at('svc/lamp/frac', 1)).toBeNull();
  });

  it('should hold only the newest `keep` once the first entry that says so is written over older ones that do not', async () => {
    const { p, n, view } = await setupNode('upgrade', 2);
    const key = partitionKeys(p, 'svc', partitionOf('svc/lamp/u', 2)).history('lamp', 'u');
    for (let i = 0; i < 2; i++) await n.ask('svc/lamp/u', { type: 'flip' });
    // Versions 1 and 2 as a runtime before `k` wrote them.
    const link = await openLink(SHARED_REDIS, 'node-redis');
    try {
      const entries = (await link.call(['LRANGE', key, '0', '-1'])) as string[];
      expect(entries.every((e) => e.includes('"k":2,'))).toBe(true);
      await link.call(['DEL', key]);
      await link.call(['RPUSH', key, ...entries.map((e) => e.replace('"k":2,', ''))]);
      expect((await view.actors.history('svc/lamp/u', { offset: 0, limit: 10 })).items.map((v) => v.version)).toEqual([2, 1]);
      // Version 3 says `k` 2 and is pushed without a trim (3 ≤ 2 + 1): version 1 is still in the list, and not held.
      await n.ask('svc/lamp/u', { type: 'flip' });
      expect(Number(await link.call(['LLEN', key]))).toBe(3);
    } finally {
      await link.close();
    }
    const page = await view.actors.history('svc/lamp/u', { offset: 0, limit: 10 });
    expect([page.items.map((v) => v.version), page.total, page.newest, page.oldest]).toEqual([[3, 2], 2, 3, 2]);
    expect(await view.actors.at('svc/lamp/u', 1)).toBeNull();
    expect((await view.actors.at('svc/lamp/u', 2))!.context).toEqual({ flips: 2 });
  });

  it('should record on a dead letter the version of the state it failed against, which the history rebuilds', async () => {
    const { n, view } = await setupNode('dead', 50);
    await n.ask('svc/flaky/f', { type: 'ok' });
    await n.ask('svc/flaky/f', { type: 'ok' });
    await n.send('svc/flaky/f', { type: 'boom' });
    const [letter] = await waitFor('the dead letter', async () => {
      const letters = await view.deadLetters.list({ service: 'svc' });
      return letters.length === 1 ? letters : null;
    });
    expect(letter!.actorVersion).toBe(2);
    expect((await view.actors.at('svc/flaky/f', letter!.actorVersion!))!.context).toEqual({ ok: 2 });
    // a message to an actor that never committed has no version to open
    await n.send('svc/flaky/g', { type: 'boom' });
    const other = await waitFor('the second dead letter', async () => (await view.deadLetters.list({ service: 'svc' })).find((l) => l.actor === 'svc/flaky/g') ?? null);
    expect(other.actorVersion).toBeUndefined();
  });

  it('should store a record too large to travel inside the batch whole, in its version and its history, each time', async () => {
    const { p, n, view } = await setupNode('large', 50);
    // Each note makes the record longer: past LARGE_RECORD it goes to the script as an argument of its own.
    const k = partitionKeys(p, 'svc', partitionOf('svc/scribe/w', 2));
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const sizes: number[] = [];
    for (let i = 0; i < 6; i++) {
      await n.ask('svc/scribe/w', { type: 'note', text: `${i}:${'é"\\'.repeat(40 * i)}` });
      sizes.push(String(await link.call(['HGET', k.actor('scribe', 'w'), 's'])).length);
      const stored = await view.actors.read('svc/scribe/w');
      expect((stored!.context as { notes: string[] }).notes.length).toBe(i + 1);
    }
    expect(Math.min(...sizes)).toBeLessThan(LARGE_RECORD);
    expect(Math.max(...sizes)).toBeGreaterThan(LARGE_RECORD * 4);
    const latest = (await view.actors.read('svc/scribe/w'))!.context as { notes: string[] };
    expect(latest.notes.at(-1)).toBe(`5:${'é"\\'.repeat(200)}`);
    for (let v = 1; v <= 6; v++) {
      const at = await view.actors.at('svc/scribe/w', v);
      expect((at!.context as { notes: string[] }).notes.length).toBe(v);
    }
    // The script refuses a record argument that is not there, before writing anything.
    try {
      const lease = String(await link.call(['GET', k.lease]));
      const keys = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry, k.actor('scribe', 'w')];
      for (const record of [9, 7, 8.5]) {
        const batch = JSON.stringify({ s: ['m-large'], x: [['6', '7', record, 'scribe/w', false, false]] });
        const res = (await scripts.commitTurn.run(link, keys, [lease, 'svc', Date.now(), 60_000, 1_000, batch, 1_000, '{"s":{}}'])) as [number, string];
        expect(res[0]).toBe(ScriptCode.InvalidArgument);
      }
      expect(await link.call(['HGET', k.actor('scribe', 'w'), 'v'])).toBe('6');
      expect(await link.call(['ZSCORE', k.seen, 'm-large'])).toBeNull();
    } finally {
      await link.close();
    }
  });

  it('should reject a negative or fractional history.keep when the type is defined', () => {
    expect(() => lamp(-1)).toThrow(/history.keep must be a whole number/);
    expect(() => lamp(1.5)).toThrow(/history.keep must be a whole number/);
  });

  it('should refuse a history entry without its key, or with a length below 1, before writing anything', async () => {
    const { p, n } = await setupNode('script', 50);
    await n.ask('svc/lamp/e', { type: 'flip' });
    const k = partitionKeys(p, 'svc', partitionOf('svc/lamp/e', 2));
    const link = await openLink(SHARED_REDIS, 'node-redis');
    try {
      const lease = String(await link.call(['GET', k.lease]));
      const base = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry, k.actor('lamp', 'e')];
      const write = (keep: number) => JSON.stringify({ s: ['m-tt'], x: [['1', '2', '{"s":{}}', 'lamp/e', false, false, '{"v":2,"at":1,"c":[],"r":', keep]] });
      const missingKey = (await scripts.commitTurn.run(link, base, [lease, 'svc', Date.now(), 60_000, 1_000, write(5), 1_000])) as [number, string];
      expect(missingKey[0]).toBe(ScriptCode.InvalidArgument);
      const zero = (await scripts.commitTurn.run(link, [...base, k.history('lamp', 'e')], [lease, 'svc', Date.now(), 60_000, 1_000, write(0), 1_000])) as [number, string];
      expect(zero[0]).toBe(ScriptCode.InvalidArgument);
      expect(zero[1]).toContain('history');
      // A fractional length would pass the checks and fail at the trim, after the record's write.
      const fraction = (await scripts.commitTurn.run(link, [...base, k.history('lamp', 'e')], [lease, 'svc', Date.now(), 60_000, 1_000, write(1.5), 1_000])) as [number, string];
      expect(fraction[0]).toBe(ScriptCode.InvalidArgument);
      expect(await link.call(['HGET', k.actor('lamp', 'e'), 'v'])).toBe('1');
      expect(Number(await link.call(['LLEN', k.history('lamp', 'e')]))).toBe(1);
      expect(await link.call(['ZSCORE', k.seen, 'm-tt'])).toBeNull();
    } finally {
      await link.close();
    }
  });
});
