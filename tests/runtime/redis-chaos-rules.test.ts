/**
 * Chaos rules of kind `redis`: a service's own connections to Redis fail, lose replies, reset and stall while the
 * rule lasts — injected by the same rules the panel writes — and the node applies every message exactly once.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createNode, type InspectionEvent, type MailroomNode } from '../../runtime/index.ts';
import { LINK_FAULT_KINDS } from '../../runtime/redis/index.ts';
import { openChaosStore } from '../../runtime/ops/index.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('redis-chaos');
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await cleanupPrefix(prefix);
});

describe('redis chaos rules', () => {
  it('should refuse a redis rule without a fault, or aimed at anything but a service', async () => {
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
    const noFault = await store.add({ kind: 'redis', target: { service: 'svc' }, probability: 0.1, durationMs: 1_000 }).catch((e: Error) => e);
    expect(String(noFault)).toContain(`a redis rule needs a fault: one of ${LINK_FAULT_KINDS.join(', ')}`);
    const onRoute = await store.add({ kind: 'redis', fault: 'fail', target: { service: 'svc', route: '/x' }, probability: 0.1, durationMs: 1_000 }).catch((e: Error) => e);
    expect(String(onRoute)).toContain('a redis rule targets a service only');
    await store.close();
  });

  it('should make the service’s Redis calls fail, lose replies and reset while the rules last, and still apply every message once', async () => {
    const seen: InspectionEvent[] = [];
    const node = await createNode({
      service: 'flaky-redis',
      actors: [counter],
      keyPrefix: prefix,
      redis: SHARED_REDIS,
      partitions: 2,
      chaosRedis: true,
      inspect: (e) => seen.push(e),
      onError: () => {},
    });
    nodes.push(node);
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
    const rules = await Promise.all([
      store.add({ kind: 'redis', fault: 'drop-reply', target: { service: 'flaky-redis' }, probability: 0.15, durationMs: 2_500 }),
      store.add({ kind: 'redis', fault: 'fail', target: { service: 'flaky-redis' }, probability: 0.1, durationMs: 2_500 }),
      store.add({ kind: 'redis', fault: 'reset', target: { service: 'flaky-redis' }, probability: 0.02, durationMs: 2_500 }),
    ]);
    await waitFor('the node to see the rules', () => node.chaos.active.length === 3);
    // Sends that fail are retried with the same id, as a careful client does; each id must count once.
    let sent = 0;
    for (let i = 0; i < 150; i++) {
      const id = `inc-${i}`;
      for (let attempt = 0; ; attempt++) {
        try {
          await node.send(`flaky-redis/counter/c${i % 5}`, { type: 'inc' }, { id });
          break;
        } catch {
          if (attempt > 50) throw new Error(`send ${id} kept failing`);
          await Bun.sleep(5);
        }
      }
      sent++;
    }
    await Promise.all(rules.map((r) => store.remove(r.id)));
    await store.close();
    // Healed once the node's rule book has dropped them (it polls every 250 ms).
    await waitFor('the node to drop the rules', () => node.chaos.active.length === 0);
    let total = 0;
    for (let c = 0; c < 5; c++) total += (await node.ask<{ n: number }>(`flaky-redis/counter/c${c}`, { type: 'get' }, { timeoutMs: 10_000 })).context.n;
    expect(total).toBe(sent);
    const injected = seen.filter((e) => e.type === 'chaos.injected' && e.kind === 'redis');
    expect(injected.length).toBeGreaterThan(0);
  }, 40_000);
});
