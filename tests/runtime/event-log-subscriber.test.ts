/**
 * The event-log subscriber against the real Redis, with events written straight into the slices (no node): what a
 * subscriber sees when its slice was trimmed under it, and how a failing handler holds its slice in order.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { subscribeEvents, type DomainEvent, type EventSubscription, type InspectionEvent } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefixes: string[] = [];
const subs: EventSubscription[] = [];
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();
afterAll(async () => {
  await Promise.all(subs.map((s) => s.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
  await redis.quit();
});

const SERVICE = 'src';

/** A fresh prefix with a service of `partitions` slices. */
async function setup(name: string, partitions: number) {
  const p = testPrefix(name);
  prefixes.push(p);
  await redis.hSet(globalKeys(p).service(SERVICE), 'partitions', String(partitions));
  return { prefix: p, slice: (n: number) => partitionKeys(p, SERVICE, n).events };
}

/** Appends one domain event to a slice, as a committed turn does; returns its stream id. */
async function append(stream: string, aggregate: string, seq: number): Promise<string> {
  const event = { id: `${aggregate}#${seq}`, type: 'Emitted', aggregate, at: Date.now(), cause: `m-${aggregate}-${seq}`, seq };
  return redis.xAdd(stream, '*', { e: JSON.stringify(event) });
}

function subscribe(prefix: string, group: string, handler: (e: DomainEvent) => void | Promise<void>, extra: Partial<Parameters<typeof subscribeEvents>[0]> = {}) {
  return subscribeEvents({ service: SERVICE, group, handler, keyPrefix: prefix, redis: SHARED_REDIS, consumer: 'c1', ...extra }).then((s) => {
    subs.push(s);
    return s;
  });
}

describe('event-log subscriber', () => {
  it('finding 6: a subscriber that lags past the slice’s retention should get a gap notice saying how many events it missed', async () => {
    const { prefix, slice } = await setup('gap-lag', 1);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await append(slice(0), 'src/emitter/a', i));
    const first: DomainEvent[] = [];
    const early = await subscribe(prefix, 'lagger', (e) => void first.push(e));
    await waitFor('the first three events', () => first.length === 3);
    await early.stop();
    // the subscriber is down while ten more events come and the slice is trimmed to its last four
    for (let i = 3; i < 13; i++) ids.push(await append(slice(0), 'src/emitter/a', i));
    await redis.xTrim(slice(0), 'MAXLEN', 4);

    const seen: DomainEvent[] = [];
    const inspected: InspectionEvent[] = [];
    await subscribe(prefix, 'lagger', (e) => void seen.push(e), { inspect: (e) => inspected.push(e) });
    await waitFor('the four events left in the slice', () => seen.filter((e) => e.type === 'Emitted').length === 4, 3_000);
    const gaps = seen.filter((e) => e.type === 'mailroom.gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ partition: 0, missed: 6, after: ids[2], before: ids[9], position: `0:${ids[9]}` });
    // the notice comes before the first event after the gap
    expect(seen.map((e) => e.type === 'mailroom.gap' ? 'gap' : e.seq)).toEqual(['gap', 9, 10, 11, 12]);
    expect(inspected.filter((e) => e.type === 'subscriber.gap')).toEqual([
      expect.objectContaining({ type: 'subscriber.gap', service: SERVICE, group: 'lagger', partition: 0, missed: 6, after: ids[2], before: ids[9] }),
    ]);
  });

  it('should count a second gap right too (Redis miscounts entries-read after the first)', async () => {
    const { prefix, slice } = await setup('gap-twice', 1);
    const gaps: (number | null)[] = [];
    const run = async (count: number) => {
      const seen: DomainEvent[] = [];
      const sub = await subscribe(prefix, 'twice', (e) => void seen.push(e), { onGap: (g) => gaps.push(g.missed) });
      await waitFor(`${count} events`, () => seen.filter((e) => e.type === 'Emitted').length === count, 3_000);
      await sub.stop();
    };
    for (let i = 0; i < 10; i++) await append(slice(0), 'src/emitter/a', i);
    await redis.xTrim(slice(0), 'MAXLEN', 4);
    await run(4);
    for (let i = 10; i < 20; i++) await append(slice(0), 'src/emitter/a', i);
    await redis.xTrim(slice(0), 'MAXLEN', 3);
    await run(3);
    expect(gaps).toEqual([6, 7]);
  });

  it('should still give a gap notice after a restart when the subscriber stopped before its handler took it', async () => {
    const { prefix, slice } = await setup('gap-kept', 1);
    for (let i = 0; i < 6; i++) await append(slice(0), 'src/emitter/a', i);
    await redis.xTrim(slice(0), 'MAXLEN', 2);
    let refused = 0;
    const first = await subscribe(prefix, 'kept', (e) => {
      if (e.type === 'mailroom.gap') {
        refused++;
        throw new Error('not now');
      }
    }, { retryDelayMs: 10_000 });
    await waitFor('the gap notice to be refused', () => refused === 1);
    await first.stop();
    const seen: DomainEvent[] = [];
    await subscribe(prefix, 'kept', (e) => void seen.push(e));
    await waitFor('the two events left', () => seen.filter((e) => e.type === 'Emitted').length === 2, 3_000);
    expect(seen.map((e) => (e.type === 'mailroom.gap' ? `gap ${e.missed}` : e.seq))).toEqual(['gap 4', 4, 5]);
  });

  it('should give a gap notice for delivered entries that were trimmed before they were acked', async () => {
    const { prefix, slice } = await setup('gap-pending', 1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await append(slice(0), 'src/emitter/a', i));
    // a subscriber read the first three and crashed before acking them; then the slice was trimmed past them
    await redis.xGroupCreate(slice(0), 'crashed', '0');
    await redis.sendCommand(['XREADGROUP', 'GROUP', 'crashed', 'c1', 'COUNT', '3', 'STREAMS', slice(0), '>']);
    await redis.xTrim(slice(0), 'MAXLEN', 2);

    const seen: DomainEvent[] = [];
    const gapsSeen: unknown[] = [];
    await subscribe(prefix, 'crashed', (e) => void seen.push(e), { onGap: (g) => gapsSeen.push(g) });
    await waitFor('the two events left', () => seen.filter((e) => e.type === 'Emitted').length === 2, 3_000);
    expect(seen.map((e) => e.type === 'mailroom.gap' ? 'gap' : e.seq)).toEqual(['gap', 3, 4]);
    expect(seen[0]).toMatchObject({ type: 'mailroom.gap', partition: 0, missed: 3, before: ids[3] });
    expect(gapsSeen).toHaveLength(1);
    const pending = await redis.xPending(slice(0), 'crashed');
    expect(pending.pending).toBe(0);
  });

  it('should retry a failed event before any later event of its slice, while other slices flow', async () => {
    const { prefix, slice } = await setup('order', 2);
    for (let i = 0; i < 5; i++) await append(slice(0), 'src/emitter/a', i);
    for (let i = 0; i < 5; i++) await append(slice(1), 'src/emitter/b', i);
    const log: string[] = [];
    let failures = 0;
    const inspected: InspectionEvent[] = [];
    await subscribe(
      prefix,
      'orderly',
      async (e) => {
        const name = `${e.aggregate.slice(-1)}${e.seq}`;
        if (name === 'a1' && failures < 2) {
          failures++;
          log.push(`${name}!`);
          throw new Error('not yet');
        }
        log.push(name);
      },
      { retryDelayMs: 150, inspect: (e) => inspected.push(e) },
    );
    // on timeout, the assertions below say what did arrive
    await waitFor('all ten events', () => log.filter((l) => !l.endsWith('!')).length === 10, 5_000).catch(() => {});
    const of = (agg: string) => log.filter((l) => l.startsWith(agg));
    expect(of('a')).toEqual(['a0', 'a1!', 'a1!', 'a1', 'a2', 'a3', 'a4']);
    expect(of('b')).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    // slice 1 was not held up by slice 0's retries
    expect(log.indexOf('b4')).toBeLessThan(log.indexOf('a1'));
    expect(inspected.filter((e) => e.type === 'retry.attempt')).toHaveLength(2);
  }, 15_000);

  it('should dead-letter an event that fails every attempt, with its error, and move the slice on', async () => {
    const { prefix, slice } = await setup('dead', 1);
    for (let i = 0; i < 3; i++) await append(slice(0), 'src/emitter/a', i);
    const log: string[] = [];
    const inspected: InspectionEvent[] = [];
    await subscribe(
      prefix,
      'doomed',
      (e) => {
        log.push(`${e.seq}`);
        if (e.seq === 1) throw new Error('cannot apply 1');
      },
      { maxAttempts: 3, retryDelayMs: 20, inspect: (e) => inspected.push(e) },
    );
    await waitFor('the event after the poisoned one', () => log.includes('2'), 5_000).catch(() => {});
    expect(log).toEqual(['0', '1', '1', '1', '2']);
    const dead = (await redis.xRange(partitionKeys(prefix, SERVICE, 0).eventDeadLetters('doomed'), '-', '+')) ?? [];
    expect(dead).toHaveLength(1);
    expect(dead[0]!.message).toMatchObject({ error: 'cannot apply 1', attempts: '3', group: 'doomed' });
    expect(JSON.parse(dead[0]!.message.e!)).toMatchObject({ aggregate: 'src/emitter/a', seq: 1 });
    expect(inspected.filter((e) => e.type === 'subscriber.deadletter')).toEqual([
      expect.objectContaining({ service: SERVICE, group: 'doomed', partition: 0, error: 'cannot apply 1', attempts: 3, eventType: 'Emitted' }),
    ]);
    expect((await redis.xPending(slice(0), 'doomed')).pending).toBe(0);
  }, 15_000);

  it('should not busy-spin while idle, and wake for a new event at once', async () => {
    const { prefix, slice } = await setup('idle', 4);
    const seen: DomainEvent[] = [];
    await subscribe(prefix, 'idler', (e) => void seen.push(e), { blockMs: 500 });
    await Bun.sleep(200);
    // count the commands that name this prefix over two idle seconds
    const monitor = Bun.spawn(['redis-cli', '-u', SHARED_REDIS, 'MONITOR'], { stdout: 'pipe' });
    await Bun.sleep(2_000);
    monitor.kill();
    const lines = (await new Response(monitor.stdout).text()).split('\n').filter((l) => l.includes(prefix));
    // one blocking read (all 4 slices) per 500 ms: ~4; polling the slices would make tens, a spinning loop thousands
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(10);
    expect(lines.every((l) => l.includes('"XREAD"'))).toBe(true);
    const sent = Date.now();
    await append(slice(2), 'src/emitter/c', 0);
    await waitFor('the new event', () => seen.length === 1, 2_000, 5);
    expect(Date.now() - sent).toBeLessThan(250);
  });
});
