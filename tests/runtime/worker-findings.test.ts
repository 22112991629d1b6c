/**
 * The partition worker on the failure paths a read of the runtime found (issue "the partition worker, correct on
 * every failure path"): each test is named after its finding and failed before the fix. Faults come from a scripted
 * link around a real connection to the shared Redis; leases are stolen the way a newer holder would take them.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, fromPromise, setup } from 'xstate';
import { createNode, defineActor, tell, type InspectionEvent, type MailroomNode, type NodeOptions } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { EffectRunner } from '../../runtime/node/effect-runner.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { ScriptCode, scripts } from '../../runtime/redis/script.ts';
import { counter, flaky, sequencer } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const until = (check: () => Promise<boolean> | boolean, timeoutMs: number) => waitFor(String(check), check, timeoutMs);
import { ScriptedFaults } from '../helpers/scripted-link.ts';

const prefixes: string[] = [];
const nodes: MailroomNode[] = [];
const links: RedisLink[] = [];
const quiet = (e: unknown, w: string) => {
  if (process.env.DEBUG_NODE) console.error(w, String(e));
};

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  for (const l of links) await l.close().catch(() => {});
  for (const p of prefixes) await cleanupPrefix(p);
});

function prefix(name: string): string {
  const p = testPrefix(`worker-${name}`);
  prefixes.push(p);
  return p;
}

async function redis(): Promise<RedisLink> {
  const link = await openLink(SHARED_REDIS, 'node-redis');
  links.push(link);
  return link;
}

async function node(p: string, faults: ScriptedFaults | null, extra: Partial<NodeOptions> = {}): Promise<MailroomNode> {
  const n = await createNode({
    service: 'svc',
    actors: [counter, sequencer, flaky],
    keyPrefix: p,
    redis: SHARED_REDIS,
    partitions: 1,
    onError: quiet,
    wrapLink: faults ? faults.wrap : undefined,
    ...extra,
  });
  nodes.push(n);
  return n;
}

/** Takes a partition's lease from outside, as a newer holder would; returns a function that gives it back. */
async function stealLease(link: RedisLink, p: string, partition = 0): Promise<() => Promise<void>> {
  const k = partitionKeys(p, 'svc', partition);
  await link.call(['DEL', k.lease]);
  const res = (await scripts.acquireLease.run(link, [k.lease, k.fence], ['thief', 60_000])) as [number, number];
  expect(res[0]).toBe(ScriptCode.Ok);
  return async () => {
    await scripts.releaseLease.run(link, [k.lease], [`thief|${res[1]}`]);
  };
}

/** Forwards `fwd` as `seq` to a sequencer, so a test can check the order in which a sender's tells arrive. */
const forwarder = defineActor(
  'forwarder',
  setup({ types: {} as { context: Record<string, never>; events: { type: 'fwd'; seq: number } } }).createMachine({
    context: {},
    on: { fwd: { actions: tell('svc/sequencer/s', ({ event }) => ({ type: 'seq', sender: 'f', seq: event.seq })) } },
  }),
);

describe('partition worker', () => {
  it('finding 1: a fenced worker stops calling Redis, can be stopped, and does not release the newer holder’s lease', async () => {
    const p = prefix('fenced');
    const faults = new ScriptedFaults();
    const n = await node(p, faults);
    const link = await redis();
    await n.ask('svc/counter/a', { type: 'inc' });
    const giveBack = await stealLease(link, p);
    // The next message makes the worker read: the read script finds the lease taken and fences it.
    await n.send('svc/counter/a', { type: 'inc' });
    await until(async () => faults.scriptCalls('readBatch').length > 0 && n.owned().length === 0, 5_000);
    const since = performance.now();
    await Bun.sleep(400);
    expect(faults.scriptCalls('readBatch', since).length).toBeLessThanOrEqual(1);
    // the thief still holds its lease: the fenced node released nothing of it
    expect(String(await link.call(['GET', partitionKeys(p, 'svc', 0).lease]))).toStartWith('thief|');
    await giveBack();
    // once free, the node takes the partition back and goes on
    const res = await n.ask<{ n: number }>('svc/counter/a', { type: 'get' }, { timeoutMs: 10_000 });
    expect(res.context.n).toBe(2);
    const stopping = performance.now();
    await n.stop();
    expect(performance.now() - stopping).toBeLessThan(3_000);
  }, 20_000);

  it('finding 2: a timer whose delay is not a number fails its message and leaves nothing half-committed', async () => {
    const p = prefix('nan');
    const sleeper = defineActor(
      'sleeper',
      setup({
        types: {} as { context: { naps: number }; events: { type: 'nap'; ms: unknown } | { type: 'ping' } },
        delays: { nap: ({ event }) => Number((event as { ms?: unknown }).ms) },
      }).createMachine({
        context: { naps: 0 },
        initial: 'awake',
        states: {
          awake: { on: { nap: { target: 'asleep', actions: assign({ naps: ({ context }) => context.naps + 1 }) }, ping: {} } },
          asleep: { after: { nap: 'awake' } },
        },
      }),
    );
    const deadLetters: InspectionEvent[] = [];
    const n = await node(p, null, { actors: [sleeper], maxDeliveries: 2, retryBaseMs: 10, inspect: (e) => e.type === 'deadletter' && deadLetters.push(e) });
    await n.send('svc/sleeper/z', { type: 'nap', ms: 'soon' });
    await until(async () => deadLetters.length === 1, 5_000);
    expect((deadLetters[0] as { error: string }).error).toContain('delay');
    const view = await n.ask<{ naps: number }>('svc/sleeper/z', { type: 'ping' });
    expect(view.state).toBe('awake');
    expect(view.context.naps).toBe(0);
    const k = partitionKeys(p, 'svc', 0);
    const link = await redis();
    expect(Number(await link.call(['ZCARD', k.timers]))).toBe(0);
    // the script itself refuses a malformed timer before writing anything
    const keys = [k.lease, k.mbox, k.seen, k.outbox, k.events, k.timers, k.timerData, k.effects, k.tries, k.index, k.dlq, k.expiry, k.actor('sleeper', 'y')];
    const lease = String(await link.call(['GET', k.lease]));
    const batch = JSON.stringify({ s: ['m-nan'], x: [['0', '1', '{"s":{}}', 'sleeper/y', 'asleep', false]], ts: [['svc/sleeper/y|t', null, '{}']] });
    const res = (await scripts.commitTurn.run(link, keys, [lease, 'svc', Date.now(), 60_000, 1_000, batch, 1_000])) as [number, string];
    expect(res[0]).toBe(ScriptCode.InvalidArgument);
    expect(await link.call(['EXISTS', k.actor('sleeper', 'y')])).toBe(0);
    expect(await link.call(['ZSCORE', k.seen, 'm-nan'])).toBeNull();
  }, 20_000);

  // `local`: the forwarder's tell to the sequencer (one partition) is applied in the batch that sent it, so the lost
  // reply is that of the commit carrying both turns; else the tell goes through the mailbox.
  it.each([
    ['relay', false],
    ['commit', false],
    ['commit', true],
  ] as const)('finding 3: a commit whose reply is lost still delivers its messages and starts its effects (delivery %s, local %p)', async (delivery, local) => {
    const p = prefix(`lost-reply-${delivery}-${local}`);
    const faults = new ScriptedFaults();
    const charger = defineActor(
      'charger',
      setup({
        types: {} as { context: { charged: number }; events: { type: 'charge' } },
        actors: { charge: fromPromise(async () => 1) },
      }).createMachine({
        context: { charged: 0 },
        initial: 'idle',
        states: {
          idle: { on: { charge: 'charging' } },
          charging: { invoke: { src: 'charge', onDone: { target: 'idle', actions: assign({ charged: ({ context }) => context.charged + 1 }) } } },
        },
      }),
    );
    const n = await node(p, faults, { actors: [counter, sequencer, forwarder, charger], delivery, localDelivery: local });
    // Every first commit of a turn that tells or starts an effect runs, but its reply is lost.
    let dropped = 0;
    let droppedTells = false;
    let droppedEffects = false;
    faults.decide = (call) => {
      const batch = ScriptedFaults.commitBatch(call);
      if (batch === undefined) return 'run';
      const tells = local ? batch.includes('sequencer/s') : batch.includes(delivery === 'relay' ? '"o":' : '"m":[[');
      const effects = batch.includes('"fs":[[');
      if ((tells && !droppedTells) || (effects && !droppedEffects)) {
        droppedTells ||= tells;
        droppedEffects ||= effects;
        dropped++;
        return 'drop-reply';
      }
      return 'run';
    };
    await n.send('svc/forwarder/f', { type: 'fwd', seq: 0 });
    await n.send('svc/charger/c', { type: 'charge' });
    const seq = await waitForState(n, 'svc/sequencer/s', (c: { count: number; violations: number }) => c.count === 1);
    expect(seq.violations).toBe(0);
    const charged = await waitForState(n, 'svc/charger/c', (c: { charged: number }) => c.charged === 1);
    expect(charged.charged).toBe(1);
    // One reply lost on a commit that carried the tell (or, local, its receiver's turn), one on a commit that started the effect.
    expect(droppedTells).toBe(true);
    expect(droppedEffects).toBe(true);
  }, 20_000);

  it('finding 4: a context JSON cannot hold, or a stored record that cannot be read, dead-letters its message and the partition goes on', async () => {
    const p = prefix('throw-outside');
    const hoarder = defineActor(
      'hoarder',
      setup({ types: {} as { context: { big: unknown }; events: { type: 'hoard' } } }).createMachine({
        context: { big: null },
        on: { hoard: { actions: assign({ big: () => BigInt(1) }) } },
      }),
    );
    const deadLetters: { actor: string; error: string }[] = [];
    const n = await node(p, null, {
      actors: [counter, hoarder],
      maxDeliveries: 2,
      retryBaseMs: 10,
      inspect: (e) => e.type === 'deadletter' && deadLetters.push(e as unknown as { actor: string; error: string }),
    });
    const link = await redis();
    const k = partitionKeys(p, 'svc', 0);
    await link.call(['HSET', k.actor('counter', 'broken'), 'v', '3', 's', '{not json']);
    await n.send('svc/hoarder/h', { type: 'hoard' });
    await n.send('svc/counter/broken', { type: 'inc' });
    for (let i = 0; i < 5; i++) await n.send('svc/counter/ok', { type: 'inc' });
    const ok = await n.ask<{ n: number }>('svc/counter/ok', { type: 'get' }, { timeoutMs: 5_000 });
    expect(ok.context.n).toBe(5);
    await until(async () => deadLetters.length === 2, 5_000);
    const byActor = Object.fromEntries(deadLetters.map((d) => [d.actor, d.error]));
    expect(byActor['svc/hoarder/h']).toContain('BigInt');
    expect(byActor['svc/counter/broken']).toContain("can't be restored");
  }, 20_000);

  it('finding 5: a blocked actor with a batch’s worth of pending entries neither stalls the others nor spins', async () => {
    const p = prefix('head-of-line');
    const faults = new ScriptedFaults();
    const n = await node(p, faults, { batchSize: 4, maxDeliveries: 5, retryBaseMs: 200 });
    for (let i = 0; i < 8; i++) await n.send('svc/flaky/f', { type: 'boom' });
    const started = performance.now();
    for (let i = 0; i < 10; i++) await n.send('svc/counter/c', { type: 'inc' });
    const res = await n.ask<{ n: number }>('svc/counter/c', { type: 'get' }, { timeoutMs: 5_000 });
    expect(res.context.n).toBe(10);
    // well before the first boom's retries (200 + 400 + 800 + 1,600 ms) are used up
    expect(performance.now() - started).toBeLessThan(2_500);
    const since = performance.now();
    await Bun.sleep(1_000);
    // while flaky stays blocked the worker waits for its retries instead of reading in a loop
    expect(faults.scriptCalls('readBatch', since).length).toBeLessThan(30);
  }, 20_000);

  it('finding 7: a tell to a service that never registered dead-letters the message that told it, and registers nothing', async () => {
    const p = prefix('unknown-target');
    const stray = defineActor(
      'stray',
      setup({ types: {} as { context: Record<string, never>; events: { type: 'go' } } }).createMachine({
        context: {},
        on: { go: { actions: tell('nowhere/thing/x', { type: 'hello' }) } },
      }),
    );
    const deadLetters: { actor: string; error: string }[] = [];
    const n = await node(p, null, {
      actors: [counter, stray],
      maxDeliveries: 2,
      retryBaseMs: 10,
      inspect: (e) => e.type === 'deadletter' && deadLetters.push(e as unknown as { actor: string; error: string }),
    });
    await n.send('svc/stray/s', { type: 'go' });
    await n.send('svc/counter/c', { type: 'inc' });
    expect((await n.ask<{ n: number }>('svc/counter/c', { type: 'get' })).context.n).toBe(1);
    await until(async () => deadLetters.length === 1, 5_000);
    expect(deadLetters[0]!.actor).toBe('svc/stray/s');
    expect(deadLetters[0]!.error).toContain('nowhere');
    const link = await redis();
    expect(await link.call(['EXISTS', `${p}:service:nowhere`])).toBe(0);
  }, 20_000);

  it('finding 8: finished actors expire after their retention, and dead letters dropped by the cap are reported', async () => {
    const p = prefix('retention');
    const oneShot = defineActor(
      'one-shot',
      setup({ types: {} as { context: Record<string, never>; events: { type: 'finish' } } }).createMachine({
        context: {},
        initial: 'open',
        states: { open: { on: { finish: 'closed' } }, closed: { type: 'final' } },
      }),
      { retainDoneMs: 100 },
    );
    const trimmed: InspectionEvent[] = [];
    const n = await node(p, null, {
      actors: [counter, oneShot],
      leaseTtlMs: 600,
      deadLettersMaxLen: 10,
      inspect: (e) => e.type === 'deadletter.trimmed' && trimmed.push(e),
    });
    await n.ask('svc/one-shot/x', { type: 'finish' });
    await n.ask('svc/counter/kept', { type: 'inc' });
    expect((await n.read('svc/one-shot/x'))?.state).toBe('closed');
    await until(async () => (await n.read('svc/one-shot/x')) === null, 5_000);
    const listed = (await n.list()).items.map((i) => i.address);
    expect(listed).toEqual(['svc/counter/kept']);
    // 300 malformed entries go straight to the dead letters, far past the cap of 10
    const link = await redis();
    const mbox = partitionKeys(p, 'svc', 0).mbox;
    for (let i = 0; i < 300; i++) await link.call(['XADD', mbox, '*', 'm', `bad-${i}`, 'a', 'svc/counter/kept']);
    const dropped = () => trimmed.reduce((s, e) => s + (e as { count: number }).count, 0);
    const kept = async () => Number(await link.call(['XLEN', partitionKeys(p, 'svc', 0).dlq]));
    // every dead letter is either still in the stream or counted by a report
    await until(async () => (await kept()) + dropped() === 300, 5_000);
    expect(dropped()).toBeGreaterThan(200);
  }, 20_000);

  it('finding 9: an effect whose outcome was applied is forgotten, and a worker that takes over keeps the effects it runs', async () => {
    const p = prefix('effects');
    const stays = defineActor(
      'stays',
      setup({
        types: {} as { context: { results: number }; events: { type: 'noop' } },
        actors: { work: fromPromise(async () => 7) },
      }).createMachine({
        context: { results: 0 },
        initial: 'working',
        states: { working: { invoke: { id: 'work', src: 'work', onDone: { actions: assign({ results: ({ context }) => context.results + 1 }) } } } },
      }),
    );
    const n = await node(p, null, { actors: [stays] });
    await n.send('svc/stays/s', { type: 'noop' });
    await waitForState(n, 'svc/stays/s', (c: { results: number }) => c.results === 1);
    const link = await redis();
    await until(async () => Number(await link.call(['HLEN', partitionKeys(p, 'svc', 0).effects])) === 0, 3_000);
    // a worker that re-acquires a partition takes over the effects its stopped predecessor still runs
    const runner = new EffectRunner(new Map(), async () => {}, () => {});
    const record = { key: 'fx:svc/stays/s|work|1', address: 'svc/stays/s', invokeId: 'work', src: 'work', input: null };
    const before = {};
    const after = {};
    runner.launch(record, before);
    runner.launch(record, after);
    runner.abortOwnedBy(before);
    expect(runner.active).toBe(1);
  }, 20_000);

  it('finding 11: after a failed relay, a sender’s later messages do not overtake the earlier ones', async () => {
    const p = prefix('relay-order');
    const faults = new ScriptedFaults();
    // The relay's path (a cluster's, or with commit replicas); on one Redis the commit delivers its messages itself.
    const n = await node(p, faults, { actors: [sequencer, forwarder], delivery: 'relay' });
    const mbox = partitionKeys(p, 'svc', 0).mbox;
    let failed = 0;
    faults.decide = (call) => {
      if (call.args[0] === 'XADD' && call.args[1] === mbox && call.args.includes('svc/sequencer/s') && failed === 0) {
        failed++;
        // the relay fails late, after the next commit's relay could have gone ahead of it
        return { afterMs: 300, then: 'fail' };
      }
      return 'run';
    };
    for (let seq = 0; seq < 4; seq++) await n.ask('svc/forwarder/f', { type: 'fwd', seq });
    const seq = await waitForState(n, 'svc/sequencer/s', (c: { count: number; violations: number }) => c.count === 4);
    expect(failed).toBe(1);
    expect(seq.violations).toBe(0);
  }, 20_000);
});

async function waitForState<T>(n: MailroomNode, address: string, until: (context: T) => boolean): Promise<T> {
  const view = await n.waitFor<T>(address, (v) => until(v.context), { timeoutMs: 8_000 });
  return view.context;
}

