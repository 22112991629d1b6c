import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, type InspectionEvent, type MailroomNode } from '../../runtime/index.ts';
import { tailInspection } from '../../runtime/ops/index.ts';
import { readEvents } from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { startChild } from '../helpers/processes.ts';
import { counter, emitter, makeCharger } from '../fixtures/test-actors.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});
function prefix(name: string) {
  const p = testPrefix(name);
  prefixes.push(p);
  return p;
}

describe('effects', () => {
  it('should run an invoked effect after the turn commits, with a stable idempotency key, and deliver its outcome as a message', async () => {
    const p = prefix('effects');
    const ledger = `${p}:ledger`;
    const charger = makeCharger(SHARED_REDIS, ledger);
    const n = await createNode({ service: 'pay', actors: [charger], keyPrefix: p, redis: SHARED_REDIS, partitions: 2 });
    nodes.push(n);
    const started = await n.ask('pay/charger/o1', { type: 'charge', amount: 42 });
    expect(started.state).toBe('charging');
    await n.ask('pay/charger/o2', { type: 'charge', amount: -1 });
    const done = await waitFor('the charge to complete', async () => {
      const r = await n.ask<{ result: { charged: number; key: string } }>('pay/charger/o1', { type: 'noop' });
      return r.state === 'charged' ? r : null;
    });
    expect(done.context.result.charged).toBe(42);
    expect(done.context.result.key).toStartWith('fx:pay/charger/o1|charge|');
    const declined = await waitFor('the declined charge', async () => {
      const r = await n.ask<{ error: string }>('pay/charger/o2', { type: 'noop' });
      return r.state === 'declined' ? r : null;
    });
    expect(declined.context.error).toContain('declined: negative amount');
    const c = createClient({ url: SHARED_REDIS });
    await c.connect();
    const calls = await c.hGetAll(ledger);
    await c.quit();
    expect(Object.keys(calls)).toHaveLength(2);
    expect(Object.values(calls)).toEqual(['1', '1']);
  });

  it('should run a recorded effect again on the node that takes the partition over, with the same key', async () => {
    const p = prefix('effects-takeover');
    const ledger = `${p}:ledger`;
    // A charger whose effect never finishes on the first node: it is stopped with the effect in flight.
    const { defineActor, effect } = await import('../../runtime/index.ts');
    const { setup, assign } = await import('xstate');
    let hang = true;
    const calls: string[] = [];
    const machine = setup({
      actors: {
        charge: effect(async ({ idempotencyKey }) => {
          calls.push(idempotencyKey);
          if (hang) await new Promise(() => {});
          return 'ok';
        }),
      },
    }).createMachine({
      initial: 'idle',
      context: { out: '' },
      states: {
        idle: { on: { charge: 'charging' } },
        charging: { invoke: { id: 'charge', src: 'charge', onDone: { target: 'done', actions: assign({ out: ({ event }) => String(event.output) }) } } },
        done: {},
      },
    });
    const def = defineActor('charger', machine);
    const a = await createNode({ service: 'pay', actors: [def], keyPrefix: p, redis: SHARED_REDIS, partitions: 1 });
    await a.ask('pay/charger/x', { type: 'charge' });
    await waitFor('the first run to start', () => calls.length === 1);
    await a.stop();
    hang = false;
    const b = await createNode({ service: 'pay', actors: [def], keyPrefix: p, redis: SHARED_REDIS, partitions: 1 });
    nodes.push(b);
    const r = await waitFor('the effect to complete on the new node', async () => {
      const s = await b.ask('pay/charger/x', { type: 'noop' });
      return s.state === 'done' ? s : null;
    });
    expect(r.context.out).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(calls[0]!);
    void ledger;
  });
});

describe('event log', () => {
  it('should append published events with the turn and replay them by aggregate', async () => {
    const p = prefix('log');
    const n = await createNode({ service: 'src', actors: [emitter], keyPrefix: p, redis: SHARED_REDIS, partitions: 4 });
    nodes.push(n);
    for (let i = 0; i < 5; i++) await n.send('src/emitter/e1', { type: 'emit' });
    await n.ask('src/emitter/e1', { type: 'noop' });
    const events = await readEvents({ service: 'src', keyPrefix: p, redis: SHARED_REDIS, aggregate: 'src/emitter/e1' });
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(events[0]).toMatchObject({ type: 'Emitted', aggregate: 'src/emitter/e1' });
    expect(typeof events[0]!.id).toBe('string');
    expect(events[0]!.position).toMatch(/^\d+:\d+-\d+$/);
  });

  it('should deliver every event in order, none applied twice, to a subscriber killed mid-stream and restarted', async () => {
    const p = prefix('subscriber');
    const producer = await createNode({ service: 'src', actors: [emitter], keyPrefix: p, redis: SHARED_REDIS, partitions: 4 });
    nodes.push(producer);
    const env = { REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: p, SERVICE: 'tal', PARTITIONS: '4', SUBSCRIBE_SERVICE: 'src', SUBSCRIBE_GROUP: 'tally' };
    const fixture = `${import.meta.dir}/../fixtures/runtime-node.ts`;
    let sub = startChild(fixture, env);
    await sub.waitLine('subscriber ready', (l) => l.ready);
    const emitters = 20;
    const perEmitter = 100;
    for (let round = 0; round < perEmitter; round++) {
      await Promise.all([...Array(emitters).keys()].map((e) => producer.send(`src/emitter/e${e}`, { type: 'emit' })));
      if (round === 40) {
        await sub.kill('SIGKILL');
      }
      if (round === 60) {
        sub = startChild(fixture, env);
        await sub.waitLine('subscriber restarted', (l) => l.ready);
      }
    }
    const client = await createNode({ service: 'tal', actors: [], keyPrefix: p, redis: SHARED_REDIS, partitions: 4, consume: false });
    nodes.push(client);
    await waitFor(
      'every event to reach the tallies',
      async () => {
        const r = await Promise.all([...Array(emitters).keys()].map((e) => client.ask<{ count: number }>(`tal/tally/e${e}`, { type: 'noop' })));
        return r.every((x) => x.context.count === perEmitter);
      },
      30_000,
      200,
    );
    const tallies = await Promise.all([...Array(emitters).keys()].map((e) => client.ask<{ count: number; violations: number; last: number }>(`tal/tally/e${e}`, { type: 'noop' })));
    for (const t of tallies) expect(t.context).toEqual({ count: perEmitter, violations: 0, last: perEmitter - 1 });
    await sub.kill('SIGTERM');
  }, 60_000);
});

describe('inspection', () => {
  it('should put transitions, lease moves and node joins on the shared stream, resumable by id', async () => {
    const p = prefix('inspect');
    const seen: InspectionEvent[] = [];
    const ids: string[] = [];
    const tail = await tailInspection({ from: '0', keyPrefix: p, redis: SHARED_REDIS, onEvents: (batch) => batch.forEach((b) => (seen.push(b.event), ids.push(b.id))) });
    const { alarm } = await import('../fixtures/test-actors.ts');
    const n = await createNode({ service: 'insp', actors: [counter, alarm], keyPrefix: p, redis: SHARED_REDIS, partitions: 2 });
    nodes.push(n);
    await n.ask('insp/alarm/a', { type: 'arm' });
    await waitFor('the transition idle → waiting on the stream', () => seen.some((e) => e.type === 'actor.transition' && e.from === 'idle' && e.to === 'waiting'));
    expect(seen.some((e) => e.type === 'node.joined')).toBe(true);
    expect(seen.filter((e) => e.type === 'lease.moved')).toHaveLength(2);
    expect(seen.some((e) => e.type === 'timer.armed' && e.actor === 'insp/alarm/a')).toBe(true);
    await tail.stop();
    // resuming after the second event yields the rest, not the first two again
    const again: string[] = [];
    const resumed = await tailInspection({ from: ids[1]!, keyPrefix: p, redis: SHARED_REDIS, onEvents: (batch) => batch.forEach((b) => again.push(b.id)) });
    await waitFor('the resumed tail', () => again.length >= ids.length - 2);
    await resumed.stop();
    expect(again.slice(0, ids.length - 2)).toEqual(ids.slice(2));
  });
});

describe('readEvents', () => {
  it('should find an aggregate’s events past the first thousand entries of its slice', async () => {
    const p = prefix('log-deep');
    const n = await createNode({ service: 'src', actors: [emitter], keyPrefix: p, redis: SHARED_REDIS, partitions: 1 });
    nodes.push(n);
    await Promise.all([...Array(1_200).keys()].map((i) => n.send(`src/emitter/noise${i % 50}`, { type: 'emit' })));
    await n.ask('src/emitter/late', { type: 'emit' });
    const events = await readEvents({ service: 'src', keyPrefix: p, redis: SHARED_REDIS, aggregate: 'src/emitter/late' });
    expect(events.map((e) => e.seq)).toEqual([0]);
  }, 30_000);
});
