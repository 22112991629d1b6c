import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { readEvents } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { startChild } from '../helpers/processes.ts';

const FIXTURE = `${import.meta.dir}/../fixtures/runtime-node.ts`;
const prefixes: string[] = [];
const clients: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop().catch(() => {})));
  for (const p of prefixes) await cleanupPrefix(p);
});

async function setup(name: string, partitions: number) {
  const prefix = testPrefix(name);
  prefixes.push(prefix);
  const client = await createNode({ service: 'svc', actors: [], keyPrefix: prefix, redis: SHARED_REDIS, partitions, consume: false });
  clients.push(client);
  const redis = createClient({ url: SHARED_REDIS });
  await redis.connect();
  const holders = async () => {
    const out: string[] = [];
    for (let p = 0; p < partitions; p++) out.push(((await redis.get(partitionKeys(prefix, 'svc', p).lease)) ?? '').split('|')[0]!);
    return out;
  };
  return { prefix, client, redis, holders };
}

function node(prefix: string, env: Record<string, string> = {}) {
  return startChild(FIXTURE, { REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: prefix, LEASE_TTL_MS: '1500', ...env });
}

describe('takeover', () => {
  it('should lose nothing and apply nothing twice when a node is SIGKILLed mid-run (20,000 increments, 500 counters)', async () => {
    const { prefix, client, redis, holders } = await setup('crash', 8);
    const a = node(prefix);
    const aId = (await a.waitLine('node A ready', (l) => l.ready)).ready;
    const b = node(prefix);
    const bId = (await b.waitLine('node B ready', (l) => l.ready)).ready;
    await waitFor('both nodes to hold partitions', async () => {
      const h = await holders();
      return h.includes(aId) && h.includes(bId) && !h.includes('');
    });
    const heldByA = (await holders()).flatMap((h, p) => (h === aId ? [p] : []));

    let killedAt = 0;
    let takeoverMs = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all([...Array(500).keys()].map((i) => client.send(`svc/counter/c${i}`, { type: 'inc' })));
      if (round === 15) {
        await a.kill('SIGKILL');
        killedAt = Date.now();
        void waitFor('B to take every partition of A', async () => {
          const h = await holders();
          return heldByA.every((p) => h[p] === bId);
        }, 20_000, 20).then(() => (takeoverMs = Date.now() - killedAt));
      }
    }
    await waitFor('takeover', () => takeoverMs > 0, 20_000);
    const a2 = node(prefix);
    await a2.waitLine('node A restarted', (l) => l.ready);

    const results = await Promise.all([...Array(500).keys()].map((i) => client.ask<{ n: number }>(`svc/counter/c${i}`, { type: 'get' }, { timeoutMs: 30_000 })));
    const wrong = results.map((r, i) => [i, r.context.n] as const).filter(([, n]) => n !== 40);
    expect(wrong).toEqual([]);
    expect(takeoverMs).toBeLessThanOrEqual(2 * 1500);
    console.log(`takeover after SIGKILL: ${takeoverMs} ms (lease TTL 1500 ms)`);
    await redis.quit();
    await Promise.all([b.kill('SIGTERM'), a2.kill('SIGTERM')]);
  }, 90_000);

  it('should reject every commit of a paused owner that resumes after losing its lease', async () => {
    const { prefix, client, redis, holders } = await setup('fence', 1);
    const a = node(prefix, { PARTITIONS: '1' });
    const aId = (await a.waitLine('node A ready', (l) => l.ready)).ready;
    const b = node(prefix, { PARTITIONS: '1' });
    const bId = (await b.waitLine('node B ready', (l) => l.ready)).ready;
    // Rendezvous hashing picks one of them for the partition; pause whichever holds it once they agree.
    await Bun.sleep(1_000);
    const holderId = await waitFor('one node to hold the partition', async () => (await holders())[0] || null);
    const [owner, other, otherId] = holderId === aId ? [a, b, bId] : [b, a, aId];

    let sending = true;
    let sent = 0;
    const load = (async () => {
      while (sending) {
        await Promise.all([...Array(50).keys()].map((i) => client.send(`svc/counter/f${i}`, { type: 'inc' })));
        sent += 50;
      }
    })();
    await Bun.sleep(300);
    owner.proc.kill('SIGSTOP');
    await waitFor('the other node to take the partition from the paused owner', async () => (await holders())[0] === otherId, 10_000);
    await Bun.sleep(300);
    owner.proc.kill('SIGCONT');
    await owner.waitLine('the resumed owner to notice it lost its lease', (l) => l.type === 'lease.moved' && l.to === '(lost)', 10_000);
    await Bun.sleep(300);
    sending = false;
    await load;
    const results = await Promise.all([...Array(50).keys()].map((i) => client.ask<{ n: number }>(`svc/counter/f${i}`, { type: 'get' }, { timeoutMs: 20_000 })));
    const total = results.reduce((s, r) => s + r.context.n, 0);
    expect(total).toBe(sent);
    await redis.quit();
    await Promise.all([owner.kill('SIGTERM'), other.kill('SIGTERM')]);
  }, 60_000);

  it('should fire a 2 s timer once, on the new owner, when its node is killed after 1 s', async () => {
    const { prefix, client, redis, holders } = await setup('timer', 1);
    const a = node(prefix, { PARTITIONS: '1' });
    const aId = (await a.waitLine('node A ready', (l) => l.ready)).ready;
    await waitFor('A to hold the partition', async () => (await holders())[0] === aId);
    const b = node(prefix, { PARTITIONS: '1' });
    const bId = (await b.waitLine('node B ready', (l) => l.ready)).ready;

    const armed = await client.ask<{ armedAt: number }>('svc/alarm/x', { type: 'arm' });
    expect(armed.state).toBe('waiting');
    await Bun.sleep(1_000);
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('B to take over', async () => (await holders())[0] === bId, 10_000);
    const takeoverMs = Date.now() - killedAt;
    await b.waitLine('the timer to fire on B', (l) => l.type === 'timer.fired' && l.actor === 'svc/alarm/x', 10_000);
    await Bun.sleep(500);
    const fired = await client.ask<{ armedAt: number; firedAt: number; fires: number }>('svc/alarm/x', { type: 'noop' });
    expect(fired.state).toBe('fired');
    expect(fired.context.fires).toBe(1);
    const delay = fired.context.firedAt - fired.context.armedAt;
    expect(delay).toBeGreaterThanOrEqual(1_500);
    expect(delay).toBeLessThanOrEqual(2_000 + Math.max(0, takeoverMs - 1_000) + 500);
    const events = await readEvents({ service: 'svc', keyPrefix: prefix, redis: SHARED_REDIS, aggregate: 'svc/alarm/x' });
    expect(events.filter((e) => e.type === 'AlarmFired')).toHaveLength(1);
    console.log(`timer fired ${delay} ms after arming; takeover took ${takeoverMs} ms`);
    await redis.quit();
    await b.kill('SIGTERM');
  }, 60_000);
});
