/**
 * A changed machine meeting records its old version committed, on real nodes and the shared Redis: a node of v1
 * commits, stops, and a node of v2 (or, for a rolling upgrade, of v1 again after a v2 node wrote) takes the
 * partition over. Migrated records run on, their renamed states' `after` timers included; records that cannot be
 * migrated are dead-lettered at once with the reason, the partition going on; a record from a newer version is held
 * back, not applied and not dead-lettered, until a node that knows it takes it.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { cannotMigrate, createNode, defineActor, renameStates, type ActorOptions, type InspectionEvent, type MailroomNode } from '../../runtime/index.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefixes: string[] = [];
const running = new Set<MailroomNode>();
afterAll(async () => {
  await Promise.all([...running].map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

/** v1: idle —start→ busy —(1.5 s)→ done; `poke` counts in any state. */
const v1Machine = setup({ types: {} as { context: { pokes: number } } }).createMachine({
  id: 'job',
  initial: 'idle',
  context: { pokes: 0 },
  on: { poke: { actions: assign({ pokes: ({ context }) => context.pokes + 1 }) } },
  states: {
    idle: { on: { start: 'busy', queue: 'queued' } },
    queued: {},
    busy: { after: { 1500: 'done' } },
    done: {},
  },
});

/** v2: `busy` is `working` (same timeout), `queued` is `delayed` (which now times out into `working`), context has `priority`. */
const v2Machine = setup({ types: {} as { context: { pokes: number; priority: string } } }).createMachine({
  id: 'job',
  initial: 'idle',
  context: { pokes: 0, priority: 'normal' },
  on: { poke: { actions: assign({ pokes: ({ context }) => context.pokes + 1 }) } },
  states: {
    idle: { on: { start: 'working' } },
    delayed: { after: { 300: 'working' } },
    working: { after: { 1500: 'done' } },
    done: {},
  },
});

const migrateV1: ActorOptions['migrate'] = {
  1: (s) => ({ ...renameStates(s, { busy: 'working', queued: 'delayed' }), context: { ...s.context, priority: 'normal' } }),
};

async function nodeOf(prefix: string, job: ReturnType<typeof defineActor>, inspected: InspectionEvent[] = []): Promise<MailroomNode> {
  const node = await createNode({
    service: 'svc',
    actors: [job, counter],
    keyPrefix: prefix,
    redis: SHARED_REDIS,
    partitions: 1,
    inspect: (e) => inspected.push(e),
    onError: (e, where) => process.env.DEBUG_NODE && console.error(where, String(e)),
  });
  running.add(node);
  await waitFor('the node to own the partition', () => node.owned().length === 1, 10_000);
  return node;
}

async function stop(node: MailroomNode): Promise<void> {
  await node.stop();
  running.delete(node);
}

function fresh(name: string): string {
  const p = testPrefix(`upgrade-${name}`);
  prefixes.push(p);
  return p;
}

describe('machine upgrades on a node', () => {
  it('should migrate a v1 record on restore and fire its renamed state’s `after` timer', async () => {
    const prefix = fresh('timer');
    const v1 = await nodeOf(prefix, defineActor('job', v1Machine));
    await v1.ask('svc/job/j1', { type: 'start' });
    expect(await v1.read('svc/job/j1')).toMatchObject({ state: 'busy', machineVersion: 1 });
    await stop(v1);

    const inspected: InspectionEvent[] = [];
    const v2 = await nodeOf(prefix, defineActor('job', v2Machine, { version: 2, migrate: migrateV1 }), inspected);
    // No message is sent: the 1.5 s timer v1 armed in `busy` fires, and must move the migrated `working` on.
    const done = await v2.waitFor('svc/job/j1', (v) => v.state === 'done', { timeoutMs: 10_000 });
    expect(done).toMatchObject({ state: 'done', machineVersion: 2, context: { pokes: 0, priority: 'normal' } });
    expect(inspected.filter((e) => e.type === 'actor.migrated')).toEqual([
      expect.objectContaining({ actor: 'svc/job/j1', actorType: 'job', fromVersion: 1, toVersion: 2, state: 'working' }),
    ]);
    expect((await v2.deadLetters.list()).length).toBe(0);
  }, 30_000);

  it('should arm the `after` timer of a state a migration moved a record into, from its next turn', async () => {
    const prefix = fresh('arm');
    const v1 = await nodeOf(prefix, defineActor('job', v1Machine));
    await v1.ask('svc/job/j2', { type: 'queue' });
    await stop(v1);

    const v2 = await nodeOf(prefix, defineActor('job', v2Machine, { version: 2, migrate: migrateV1 }));
    expect((await v2.ask('svc/job/j2', { type: 'poke' })).state).toBe('delayed');
    // `delayed` times out into `working` after 300 ms, and that one into `done` after 1.5 s.
    const done = await v2.waitFor('svc/job/j2', (v) => v.state === 'done', { timeoutMs: 10_000 });
    expect(done.context).toEqual({ pokes: 1, priority: 'normal' });
  }, 30_000);

  it('should dead-letter at once, with the reason, the messages of a record without a migration path, and go on', async () => {
    const prefix = fresh('no-path');
    const v1 = await nodeOf(prefix, defineActor('job', v1Machine));
    await v1.ask('svc/job/j3', { type: 'start' });
    await stop(v1);

    const v3 = await nodeOf(prefix, defineActor('job', v2Machine, { version: 3, migrate: { 2: (s) => s } }));
    await v3.send('svc/job/j3', { type: 'poke' });
    await v3.send('svc/counter/c', { type: 'inc' });
    const letters = await waitFor('the dead letter', async () => {
      const list = await v3.deadLetters.list();
      return list.length > 0 ? list : null;
    });
    expect(letters.map((l) => ({ actor: l.actor, error: l.error, deliveries: l.deliveries }))).toEqual([
      { actor: 'svc/job/j3', error: 'upgrade: record of job v1 cannot be restored by v3: no migration from 1', deliveries: 1 },
    ]);
    // The partition went on, and the record is left as v1 wrote it (a fixed version can replay the letter).
    await v3.waitFor('svc/counter/c', (v) => v.context.n === 1);
    expect(await v3.read('svc/job/j3')).toMatchObject({ state: 'busy', machineVersion: 1, context: { pokes: 0 } });
  }, 30_000);

  it('should dead-letter the messages of a record its migration refuses or that lands in a state the machine lacks', async () => {
    const prefix = fresh('refused');
    const v1 = await nodeOf(prefix, defineActor('job', v1Machine));
    await v1.ask('svc/job/refused', { type: 'start' });
    await v1.ask('svc/job/lost', { type: 'queue' });
    await stop(v1);

    const v2 = await nodeOf(
      prefix,
      defineActor('job', v2Machine, {
        version: 2,
        migrate: { 1: (s) => (s.value === 'busy' ? cannotMigrate('busy jobs of v1 must be finished by v1') : s) },
      }),
    );
    await v2.send('svc/job/refused', { type: 'poke' });
    await v2.send('svc/job/lost', { type: 'poke' });
    const letters = await waitFor('both dead letters', async () => {
      const list = await v2.deadLetters.list();
      return list.length === 2 ? list : null;
    });
    const reasons = Object.fromEntries(letters.map((l) => [l.actor, l.error]));
    expect(reasons['svc/job/refused']).toBe('upgrade: record of job v1 cannot be restored by v2: the migration from 1 refused it: busy jobs of v1 must be finished by v1');
    expect(reasons['svc/job/lost']).toStartWith('upgrade: record of job v1 cannot be restored by v2: state "queued" does not exist in v2');
  }, 30_000);

  it('should hold back a record a newer version wrote — not applied, not dead-lettered — until a node of that version takes it', async () => {
    const prefix = fresh('newer');
    const v2def = defineActor('job', v2Machine, { version: 2, migrate: migrateV1 });
    const v2 = await nodeOf(prefix, v2def);
    await v2.ask('svc/job/j4', { type: 'poke' });
    await stop(v2);

    // A rolling upgrade: a node still on v1 takes the partition back.
    const inspected: InspectionEvent[] = [];
    const old = await nodeOf(prefix, defineActor('job', v1Machine), inspected);
    await old.send('svc/job/j4', { type: 'poke' });
    await old.send('svc/counter/c', { type: 'inc' });
    await waitFor('the held-back event', () => inspected.some((e) => e.type === 'actor.heldBack'));
    await old.waitFor('svc/counter/c', (v) => v.context.n === 1);
    expect(inspected.filter((e) => e.type === 'actor.heldBack')).toEqual([
      expect.objectContaining({ actor: 'svc/job/j4', actorType: 'job', fromVersion: 2, toVersion: 1, reason: 'record of job was written by v2, this node knows v1: held back for a node that knows v2' }),
    ]);
    // Held back across retries (one every second), not once: the record is unchanged and nothing is dead-lettered.
    await Bun.sleep(2_500);
    expect(await old.read('svc/job/j4')).toMatchObject({ machineVersion: 2, context: { pokes: 1, priority: 'normal' } });
    expect(await old.deadLetters.list()).toEqual([]);
    await stop(old);

    const upgraded = await nodeOf(prefix, v2def);
    const view = await upgraded.waitFor('svc/job/j4', (v) => v.context.pokes === 2, { timeoutMs: 10_000 });
    expect(view).toMatchObject({ state: 'idle', machineVersion: 2, context: { pokes: 2, priority: 'normal' } });
    expect(await upgraded.deadLetters.list()).toEqual([]);
  }, 30_000);
});
