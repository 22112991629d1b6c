/**
 * The control plane over a real cluster, in-process: two runtime nodes of a test service (4 partitions) hosting
 * test actors, and the control routes reading the same Redis prefix — topology (nodes, leases, Redis, rates),
 * actors paged and searched, one actor with its machine and transitions, dead letters listed, replayed and
 * discarded, chaos rules that the nodes obey, and the inspection history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, type MailroomNode } from '../../runtime/index.ts';
import { counter, flaky } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { controlApp } from './helpers.ts';

/** A switch: off ⇄ on on `flip`; its third version (so the view's `machineVersion` shows the one that wrote it). */
const light = defineActor(
  'light',
  setup({ types: {} as { context: { flips: number }; events: { type: 'flip' } } }).createMachine({
    id: 'light',
    context: { flips: 0 },
    initial: 'off',
    states: {
      off: { on: { flip: { target: 'on', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
      on: { on: { flip: { target: 'off', actions: assign({ flips: ({ context }) => context.flips + 1 }) } } },
    },
  }),
  { version: 3 },
);

const prefix = testPrefix('control-cluster');
const nodes: MailroomNode[] = [];
let control: Awaited<ReturnType<typeof controlApp>>;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    nodes.push(
      await createNode({
        service: 'tsvc',
        actors: [counter, flaky, light],
        redis: SHARED_REDIS,
        keyPrefix: prefix,
        partitions: 4,
        leaseTtlMs: 600,
        maxDeliveries: 2,
        retryBaseMs: 10,
        onError: () => {},
      }),
    );
  }
  control = await controlApp({ prefix });
  // Every partition has settled on one of the two nodes (the second node's arrival moves some) before anything
  // is sent: the same owners for over a second.
  let last = '';
  let since = Date.now();
  await waitFor('the partitions to settle', () => {
    const owners = JSON.stringify(nodes.map((n) => n.owned()));
    if (owners !== last) [last, since] = [owners, Date.now()];
    return nodes.flatMap((n) => n.owned()).length === 4 && Date.now() - since > 1_200;
  }, 10_000, 100);
}, 15_000);

afterAll(async () => {
  await control?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await cleanupPrefix(prefix);
});

describe('GET /control/topology', () => {
  it('should list both nodes, every partition with its owner and token, and Redis’s health', async () => {
    // Heartbeats report partitions as of their tick: wait for one after the leases settled.
    const body = await waitFor('heartbeats naming every partition', async () => {
      const res = await control.json('GET', '/control/topology');
      expect(res.status).toBe(200);
      return res.body.nodes.flatMap((n: any) => n.partitions).length === 4 ? res.body : null;
    });
    expect(body.processes).toEqual([]); // no supervisor here
    expect(body.nodes.map((n: any) => n.nodeId).sort()).toEqual(nodes.map((n) => n.nodeId).sort());
    for (const n of body.nodes) {
      expect(n).toMatchObject({ service: 'tsvc', pid: process.pid });
      expect(n.lastSeenMs).toBeLessThan(2_000);
    }
    expect(body.nodes.flatMap((n: any) => n.partitions).sort()).toEqual([0, 1, 2, 3]);
    expect(body.partitions).toHaveLength(4);
    for (const p of body.partitions) {
      const owner = nodes.find((n) => n.owned().includes(p.partition))!;
      expect(p).toEqual({ service: 'tsvc', partition: p.partition, owner: owner.nodeId, token: expect.any(Number) });
    }
    expect(body.redis).toMatchObject({ ok: true, version: expect.stringMatching(/^\d+\.\d+/) });
    expect(body.redis.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.redis.usedMemoryBytes).toBeGreaterThan(0);
    expect(body.rates.windowS).toBe(10);
  });

  it('should say how many messages per second the service processed, from two heartbeats', async () => {
    await control.ctx.rates.sample();
    await Promise.all([...Array(200).keys()].map((i) => nodes[0]!.send(`tsvc/counter/rate-${i % 20}`, { type: 'inc' })));
    await nodes[0]!.ask('tsvc/counter/rate-0', { type: 'get' });
    await waitFor('a later heartbeat', async () => {
      await control.ctx.rates.sample();
      const { body } = await control.json('GET', '/control/topology');
      return body.rates.services.find((s: any) => s.service === 'tsvc')?.processedPerSec > 0;
    }, 5_000, 100);
  });
});

describe('GET /control/actors', () => {
  beforeAll(async () => {
    await Promise.all([...Array(250).keys()].map((i) => nodes[i % 2]!.ask(`tsvc/counter/c-${String(i).padStart(3, '0')}`, { type: 'inc' })));
  }, 10_000);

  it('should page through every actor of a type exactly, with no repeats', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/control/actors?service=tsvc&type=counter&q=c-&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await control.json('GET', query);
      expect(status).toBe(200);
      pages.push(body.items.map((i: any) => i.address));
      for (const item of body.items) expect(item.state).toBe('(root)');
      cursor = body.cursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages.slice(0, -1).every((p) => p.length === 100)).toBe(true);
    const all = pages.flat();
    expect(all).toHaveLength(250);
    expect(new Set(all).size).toBe(250);
    expect(all.every((a) => /^tsvc\/counter\/c-\d{3}$/.test(a))).toBe(true);
  });

  it('should search ids by prefix or glob, and list every service when none is named', async () => {
    const prefixed = await control.json('GET', '/control/actors?type=counter&q=c-01&limit=500');
    expect(prefixed.body.items.map((i: any) => i.address).sort()).toEqual([...Array(10).keys()].map((i) => `tsvc/counter/c-01${i}`));
    const globbed = await control.json('GET', '/control/actors?service=tsvc&q=c-2%3F9&limit=500');
    expect(globbed.body.items.map((i: any) => i.address).sort()).toEqual(['tsvc/counter/c-209', 'tsvc/counter/c-219', 'tsvc/counter/c-229', 'tsvc/counter/c-239', 'tsvc/counter/c-249']);
    const none = await control.json('GET', '/control/actors?service=tsvc&type=light&q=zzz');
    expect(none.body).toEqual({ items: [], cursor: null });
  });
});

describe('GET /control/actors/:service/:type/:id', () => {
  it('should show the actor’s state, context, version, machine version, machine graph and transitions newest first', async () => {
    await nodes[0]!.ask('tsvc/light/l1', { type: 'flip' });
    await nodes[1]!.ask('tsvc/light/l1', { type: 'flip' });
    const view = await waitFor('both transitions in the history', async () => {
      const { body } = await control.json('GET', '/control/actors/tsvc/light/l1');
      return body.transitions?.length === 2 ? body : null;
    });
    expect(view).toMatchObject({ address: 'tsvc/light/l1', state: 'off', context: { flips: 2 }, version: 2, machineVersion: 3, status: 'active' });
    expect(view.machine.states.map((s: any) => s.id)).toEqual(['light', 'light.off', 'light.on']);
    expect(view.machine.transitions).toContainEqual({ source: 'light.off', targets: ['light.on'], event: 'flip' });
    expect(view.transitions.map((t: any) => `${t.from}→${t.to}`)).toEqual(['on→off', 'off→on']);
    expect(view.transitions[0].id > view.transitions[1].id).toBe(true);

    // A control plane that just started has no memory of it: it finds the same transitions in the stream.
    const fresh = await controlApp({ prefix, follow: false });
    try {
      const { body } = await fresh.json('GET', '/control/actors/tsvc/light/l1');
      expect(body.transitions.map((t: any) => t.id)).toEqual(view.transitions.map((t: any) => t.id));
    } finally {
      await fresh.close();
    }
  });

  it('should find an actor whose id holds a slash when the slash is encoded', async () => {
    await nodes[0]!.ask('tsvc/counter/a/b', { type: 'inc' });
    const { status, body } = await control.json('GET', '/control/actors/tsvc/counter/a%2Fb');
    expect([status, body.address, body.context]).toEqual([200, 'tsvc/counter/a/b', { n: 1 }]);
  });

  it('should give machines by service and type, and the breaker’s', async () => {
    const graph = await control.json('GET', '/control/machines/tsvc/light');
    expect(graph.body.id).toBe('light');
    const breaker = await control.json('GET', '/control/machines/breaker');
    expect(breaker.body.states.map((s: any) => s.key)).toEqual(expect.arrayContaining(['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled']));
  });
});

describe('dead letters', () => {
  it('should list a dead letter with its event and error, replay it, and discard it', async () => {
    await nodes[0]!.send('tsvc/flaky/f1', { type: 'boom' });
    const [letter] = await waitFor('a dead letter', async () => {
      const { body } = await control.json('GET', '/control/deadletters?service=tsvc');
      return body.length === 1 ? body : null;
    });
    // (No asymmetric matchers inside toMatchObject here: bun writes them into the received object.)
    expect(letter).toMatchObject({ service: 'tsvc', actor: 'tsvc/flaky/f1', event: 'boom', payload: { type: 'boom' }, deliveries: 2 });
    expect(letter.partition).toBeOneOf([0, 1, 2, 3]);
    expect(letter.error).toContain('boom on purpose');
    expect(letter.failedAt).toBeGreaterThan(Date.now() - 10_000);

    const replay = await control.json('POST', `/control/deadletters/tsvc/${letter.partition}/${letter.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayed: true, service: 'tsvc', id: letter.id });
    // It throws again, and is dead-lettered again under a new entry id.
    const [again] = await waitFor('the replayed message to die again', async () => {
      const { body } = await control.json('GET', '/control/deadletters');
      return body.length === 1 && body[0].id !== letter.id ? body : null;
    });
    expect(again.messageId).toBe(letter.messageId);
    expect((await control.json('POST', `/control/deadletters/tsvc/${letter.partition}/${letter.id}/replay`)).status).toBe(404);

    const path = `/control/deadletters/tsvc/${again.partition}/${again.id}`;
    expect((await control.json('DELETE', path)).body).toMatchObject({ discarded: true });
    expect((await control.json('DELETE', path)).body.code).toBe('DEAD_LETTER_NOT_FOUND');
    expect((await control.json('GET', '/control/deadletters?service=tsvc')).body).toEqual([]);
    expect((await control.json('DELETE', `/control/deadletters/tsvc/4/${again.id}`)).status).toBe(404);
  });
});

describe('chaos', () => {
  const get = async (address: string) => (await nodes[0]!.ask(address, { type: 'get' })).reply;

  it('should add a rule the nodes obey, record it as an event, and remove it', async () => {
    const added = await control.json('POST', '/control/chaos/rules', {
      body: { kind: 'drop', target: { service: 'tsvc', messageType: 'inc' }, probability: 1, durationMs: 30_000, note: 'test drop' },
    });
    expect(added.status).toBe(201);
    const id: string = added.body.id;
    expect(id).toMatch(/^r-/);
    expect(added.body).toMatchObject({ kind: 'drop', target: { service: 'tsvc', messageType: 'inc' }, probability: 1, note: 'test drop' });
    expect(added.body.expiresAt - added.body.createdAt).toBe(30_000);
    expect((await control.json('GET', '/control/chaos/rules')).body.map((r: any) => r.id)).toEqual([id]);

    await Bun.sleep(400); // every process follows the rules within ~250 ms
    await nodes[0]!.send('tsvc/counter/chaos-1', { type: 'inc' });
    expect(await get('tsvc/counter/chaos-1')).toBe(0);

    const events = await waitFor('the chaos.rule event', async () => {
      const { body } = await control.json('GET', '/control/events?type=chaos.rule');
      return body.length ? body : null;
    });
    expect(events[0]).toMatchObject({ type: 'chaos.rule', source: 'control', rule: id, kind: 'drop', target: 'tsvc inc' });

    expect((await control.json('DELETE', `/control/chaos/rules/${id}`)).body).toEqual({ removed: true, id });
    await Bun.sleep(400);
    await nodes[0]!.send('tsvc/counter/chaos-1', { type: 'inc' });
    expect(await get('tsvc/counter/chaos-1')).toBe(1);
  });

  it('should start scenarios, and refuse one that needs a supervisor when none listens', async () => {
    const listed = await control.json('GET', '/control/chaos/scenarios');
    expect(listed.body.map((s: any) => s.name)).toEqual(['payment-provider-down', 'slow-inventory', 'crash-shipping', 'drop-10pct']);
    const slow = await control.json('POST', '/control/chaos/scenarios/slow-inventory', { body: { durationMs: 5_000 } });
    expect(slow.status).toBe(201);
    expect(slow.body.rules).toEqual([expect.objectContaining({ kind: 'latency', target: { service: 'inventory' }, latencyMs: { min: 300, max: 800 } })]);
    const drop = await control.json('POST', '/control/chaos/scenarios/drop-10pct');
    expect(drop.body.rules).toHaveLength(4);
    expect(drop.body.rules[0].expiresAt - drop.body.rules[0].createdAt).toBe(60_000);
    const crash = await control.json('POST', '/control/chaos/scenarios/crash-shipping');
    expect([crash.status, crash.body.code]).toEqual([503, 'SUPERVISOR_UNAVAILABLE']);
    expect((await control.json('DELETE', '/control/chaos/rules')).body).toEqual({ removed: 5 });
    expect((await control.json('GET', '/control/chaos/rules')).body).toEqual([]);
  });

  it('should pause a service’s consumers for the seconds asked', async () => {
    const paused = await control.json('POST', '/control/services/tsvc/pause', { body: { seconds: 1 } });
    expect(paused.status).toBe(201);
    expect(paused.body).toMatchObject({ kind: 'pause', target: { service: 'tsvc' }, probability: 1 });
    await Bun.sleep(400);
    const sent = Date.now();
    const answered = await nodes[0]!.ask('tsvc/counter/paused-1', { type: 'inc' }, { timeoutMs: 4_000 });
    expect(answered.handled).toBe(true);
    expect(Date.now() - sent).toBeGreaterThan(300);
    await control.json('DELETE', '/control/chaos/rules');
  });
});

describe('GET /control/events', () => {
  it('should give the latest events oldest first, filtered, and the ones after an id', async () => {
    const latest = await control.json('GET', '/control/events?type=actor.transition&limit=2');
    expect(latest.status).toBe(200);
    expect(latest.body).toHaveLength(2);
    expect(latest.body.every((e: any) => e.type === 'actor.transition' && /^\d+-\d+\/\d+$/.test(e.id))).toBe(true);
    const all = await control.json('GET', '/control/events?limit=1000');
    const ids = all.body.map((e: any) => e.id);
    expect(ids).toEqual([...ids].sort((a: string, b: string) => cmpId(a, b)));
    const after = await control.json('GET', `/control/events?from=${encodeURIComponent(ids[0])}&limit=3`);
    expect(after.body.map((e: any) => e.id)).toEqual(ids.slice(1, 4));
    const bySource = await control.json('GET', '/control/events?source=control&limit=1000');
    expect(bySource.body.length).toBeGreaterThan(0);
    expect(bySource.body.every((e: any) => e.source === 'control')).toBe(true);
  });
});

function cmpId(a: string, b: string): number {
  const [ea, ia] = a.split('/');
  const [eb, ib] = b.split('/');
  const [ma, sa] = ea!.split('-').map(Number);
  const [mb, sb] = eb!.split('-').map(Number);
  return ma! - mb! || sa! - sb! || Number(ia) - Number(ib);
}
