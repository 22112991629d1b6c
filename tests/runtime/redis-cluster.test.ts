/**
 * The runtime on a real Redis Cluster (3 masters, 3 replicas, started for this file): partitions spread over
 * several masters, so sends, asks, relays between partitions, event-log reads and takeovers all cross slots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, isGapNotice, partitionOf, subscribeEvents, tell, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { counter, emitter } from '../fixtures/test-actors.ts';
import { startChild } from '../helpers/processes.ts';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.ts';
import { testPrefix, waitFor } from '../helpers/redis.ts';

/** On `fan`, tells `by` to each counter it names: one turn, messages to partitions in other slots. */
const fanner = defineActor(
  'fanner',
  setup({ types: {} as { context: { fanned: number }; events: { type: 'fan'; to: string[] } } }).createMachine({
    context: { fanned: 0 },
    on: {
      fan: {
        actions: [
          assign({ fanned: ({ context, event }) => context.fanned + event.to.length }),
          ...[...Array(4).keys()].map((i) => tell(({ event }) => (event as { to: string[] }).to[i]!, { type: 'inc' })),
        ],
      },
    },
  }),
);

let cluster: TestCluster;
let link: RedisLink;
const nodes: MailroomNode[] = [];
beforeAll(async () => {
  cluster = await startTestCluster();
  link = await openLink(cluster.url);
}, 60_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await link?.close();
  await cluster?.stop();
});

const masterOf = async (key: string) => {
  const slot = Number(await link.call(['CLUSTER', 'KEYSLOT', key]));
  const ranges = (await link.call(['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  return `${range[2][0]}:${range[2][1]}`;
};

describe('the runtime on a Redis Cluster', () => {
  it('should place a service\'s partitions on several masters, each partition\'s keys in one slot', async () => {
    const prefix = testPrefix('cluster-slots');
    const masters = new Set<string>();
    for (let p = 0; p < 8; p++) {
      const k = partitionKeys(prefix, 'svc', p);
      const slots = new Set(await Promise.all([k.mbox, k.lease, k.events, k.outbox, k.actor('counter', 'x')].map((key) => link.call(['CLUSTER', 'KEYSLOT', key]))));
      expect(slots.size).toBe(1);
      masters.add(await masterOf(k.mbox));
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('should apply sends, answer asks from another node and relay turns between partitions in other slots', async () => {
    const prefix = testPrefix('cluster-sends');
    const errors: string[] = [];
    const onError = (error: unknown, where: string) => errors.push(`${where}: ${String(error)}`);
    const worker = await createNode({ service: 'svc', actors: [counter, fanner], keyPrefix: prefix, redis: cluster.url, leaseTtlMs: 1_500, onError });
    const client = await createNode({ service: 'svc', actors: [], keyPrefix: prefix, redis: cluster.url, consume: false, onError });
    nodes.push(worker, client);
    await waitFor('the worker to own every partition', () => worker.owned().length === 8);

    const ids = [...Array(40).keys()].map((i) => `c${i}`);
    await Promise.all(ids.map((id) => client.send(`svc/counter/${id}`, { type: 'inc', by: 2 })));
    // Ten fans, each telling 4 counters in one turn: 40 more increments through the outbox relay.
    for (let f = 0; f < 10; f++) await client.send(`svc/fanner/f${f}`, { type: 'fan', to: ids.slice(f * 4, f * 4 + 4).map((id) => `svc/counter/${id}`) });
    await waitFor('every relayed increment', async () => {
      const views = await Promise.all(ids.map((id) => client.read(`svc/counter/${id}`)));
      return views.every((v) => (v?.context as { n: number } | undefined)?.n === 3);
    }, 20_000);
    // Asked from the client node: every answer crosses nodes on the asker's sharded reply channel.
    const answers = await Promise.all(ids.map((id) => client.ask<{ n: number }>(`svc/counter/${id}`, { type: 'get' }, { timeoutMs: 10_000 })));
    expect(answers.map((a) => a.reply)).toEqual(ids.map(() => 3));
    const owners = new Set(await Promise.all([...Array(8).keys()].map((p) => masterOf(partitionKeys(prefix, 'svc', p).mbox))));
    expect(owners.size).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  }, 60_000);

  it('should hand a subscriber every event of every slice, in order per aggregate', async () => {
    const prefix = testPrefix('cluster-log');
    const node = await createNode({ service: 'log', actors: [emitter], keyPrefix: prefix, redis: cluster.url });
    nodes.push(node);
    const seen = new Map<string, number[]>();
    // A read over several slots (CROSSSLOT) would surface here, even if polling hid it from the events.
    const errors: string[] = [];
    const sub = await subscribeEvents({
      service: 'log',
      group: 'g',
      keyPrefix: prefix,
      redis: cluster.url,
      blockMs: 200,
      onError: (error) => errors.push(String(error)),
      handler: (e) => {
        if (isGapNotice(e)) throw new Error('no gap expected');
        seen.set(e.aggregate, [...(seen.get(e.aggregate) ?? []), Number(e.seq)]);
      },
    });
    const aggregates = [...Array(24).keys()].map((i) => `log/emitter/e${i}`);
    for (let round = 0; round < 5; round++) await Promise.all(aggregates.map((a) => node.send(a, { type: 'emit' })));
    await waitFor('every event', () => [...seen.values()].reduce((n, s) => n + s.length, 0) >= 120, 20_000);
    await sub.stop();
    const slices = new Set(aggregates.map((a) => partitionOf(a, 8)));
    expect(new Set(await Promise.all([...slices].map((p) => masterOf(partitionKeys(prefix, 'log', p).events)))).size).toBeGreaterThan(1);
    expect([...seen.keys()].sort()).toEqual([...aggregates].sort());
    for (const a of aggregates) expect(seen.get(a)).toEqual([0, 1, 2, 3, 4]);
    expect(errors).toEqual([]);
  }, 60_000);

  it('should let a node take over the partitions of a node killed with SIGKILL, losing no message', async () => {
    const prefix = testPrefix('cluster-takeover');
    const env = { MAILROOM_REDIS_CLUSTER: cluster.env, REDIS_URL: 'redis://127.0.0.1:1', MAILROOM_PREFIX: prefix, LEASE_TTL_MS: '1500' };
    const fixture = `${import.meta.dir}/../fixtures/runtime-node.ts`;
    const a = startChild(fixture, env);
    const aId = (await a.waitLine('node A ready', (l) => l.ready)).ready as string;
    const b = startChild(fixture, env);
    const bId = (await b.waitLine('node B ready', (l) => l.ready)).ready as string;
    const holders = async () => Promise.all([...Array(8).keys()].map(async (p) => String((await link.call(['GET', partitionKeys(prefix, 'svc', p).lease])) ?? '').split('|')[0]));
    await waitFor('both nodes to hold partitions', async () => {
      const h = await holders();
      return h.includes(aId) && h.includes(bId);
    }, 20_000);
    const client = await createNode({ service: 'svc', actors: [], keyPrefix: prefix, redis: cluster.url, consume: false });
    nodes.push(client);
    const ids = [...Array(50).keys()].map((i) => `svc/counter/k${i}`);
    await Promise.all(ids.map((id) => client.send(id, { type: 'inc' })));
    await a.kill('SIGKILL');
    await Promise.all(ids.map((id) => client.send(id, { type: 'inc' })));
    await waitFor('B to hold every partition', async () => (await holders()).every((h) => h === bId), 20_000);
    const answers = await Promise.all(ids.map((id) => client.ask<{ n: number }>(id, { type: 'get' }, { timeoutMs: 15_000 })));
    expect(answers.map((r) => r.reply)).toEqual(ids.map(() => 2));
    await b.kill('SIGTERM');
  }, 60_000);
});
