import { afterAll, describe, expect, it } from 'bun:test';
import { createHttpClient, NetworkError } from '../../runtime/resilience/index.ts';
import { createNode, RuleBook, type InspectionEvent, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { openChaosStore } from '../../runtime/ops/index.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { counter } from '../fixtures/test-actors.ts';

const prefix = testPrefix('chaos');
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await cleanupPrefix(prefix);
});

async function setup(service: string) {
  const seen: InspectionEvent[] = [];
  const node = await createNode({ service, actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 1, maxDeliveries: 2, retryBaseMs: 10, inspect: (e) => seen.push(e), onError: () => {} });
  nodes.push(node);
  const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
  return { node, store, seen };
}
const count = async (n: MailroomNode, id: string) => (await n.ask<{ n: number }>(`${n.service}/counter/${id}`, { type: 'get' })).context.n;

describe('chaos rules', () => {
  it('should refuse a rule that does not say what, where or how often, naming every problem', async () => {
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
    const err = await store.add({ kind: 'latency' as const, target: {}, probability: 2, durationMs: 1000 }).catch((e) => e);
    expect(err.message).toContain('target needs a service or a dependency');
    expect(err.message).toContain('probability must be between 0 and 1');
    expect(err.message).toContain('latencyMs needs');
    await store.close();
  });

  it('should drop a service’s messages of one type, apply the others, and report the injection', async () => {
    const { node, store, seen } = await setup('dropper');
    const rule = await store.add({ kind: 'drop', target: { service: 'dropper', messageType: 'inc' }, probability: 1, durationMs: 60_000 });
    await waitFor('the node to see the rule', () => node.chaos.active.some((r) => r.id === rule.id));
    for (let i = 0; i < 5; i++) await node.send('dropper/counter/a', { type: 'inc' });
    expect(await count(node, 'a')).toBe(0);
    expect(seen.some((e) => e.type === 'chaos.injected' && e.rule === rule.id && e.kind === 'drop')).toBe(true);
    await store.remove(rule.id);
    await waitFor('the rule to be gone', () => node.chaos.active.length === 0);
    await node.send('dropper/counter/a', { type: 'inc' });
    expect(await count(node, 'a')).toBe(1);
    await store.close();
  });

  it('should deliver duplicated messages again without a second effect', async () => {
    const { node, store, seen } = await setup('dupper');
    const rule = await store.add({ kind: 'duplicate', target: { service: 'dupper', messageType: 'inc' }, probability: 1, durationMs: 60_000 });
    await waitFor('the node to see the rule', () => node.chaos.active.length === 1);
    for (let i = 0; i < 10; i++) await node.send('dupper/counter/a', { type: 'inc' });
    await waitFor('the copies to come back', () => seen.filter((e) => e.type === 'chaos.injected').length >= 10);
    await store.remove(rule.id);
    expect(await count(node, 'a')).toBe(10);
    await store.close();
  });

  it('should fail turns on purpose until the message goes to the dead letters', async () => {
    const { node, store } = await setup('failer');
    await store.add({ kind: 'error', target: { service: 'failer', messageType: 'inc' }, probability: 1, durationMs: 60_000 });
    await waitFor('the node to see the rule', () => node.chaos.active.length === 1);
    await node.send('failer/counter/a', { type: 'inc' });
    const letters = await waitFor('a dead letter', async () => ((await node.deadLetters.list()).length ? node.deadLetters.list() : null));
    expect(letters[0]!.error).toContain('injected fault (chaos rule');
    await store.clear();
  });

  it('should pause a service’s consumers until the rule expires', async () => {
    const { node, store } = await setup('sleeper');
    await store.add({ kind: 'pause', target: { service: 'sleeper' }, probability: 1, durationMs: 800 });
    await waitFor('the node to see the rule', () => node.chaos.paused('sleeper'));
    const started = Date.now();
    await node.send('sleeper/counter/a', { type: 'inc' });
    expect(await count(node, 'a')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    await store.close();
  });

  it('should fail or slow a process’s routes, never /health', async () => {
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const book = new RuleBook(link, prefix);
    const app = createServiceApp({ name: 'shop', chaos: book }).get('/things', () => ({ ok: true }));
    await store.add({ kind: 'error', target: { service: 'shop', route: '/things' }, probability: 1, status: 502, durationMs: 60_000, note: 'shop down' });
    await book.refresh();
    const res = await app.handle(new Request('http://localhost/things'));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'INJECTED_FAULT', message: expect.stringContaining('shop down') });
    expect((await app.handle(new Request('http://localhost/health'))).status).toBe(200);
    await store.clear();
    await book.refresh();
    expect((await app.handle(new Request('http://localhost/things'))).status).toBe(200);
    await link.close();
    await store.close();
  });

  it('should fail calls to a dependency before they leave, as network errors the breaker counts', async () => {
    const store = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: prefix });
    const link = await openLink(SHARED_REDIS, 'node-redis');
    const book = new RuleBook(link, prefix);
    let reached = 0;
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => (reached++, new Response('ok')) });
    const http = createHttpClient({
      source: 'payment',
      dependencies: { provider: { baseUrl: `http://127.0.0.1:${server.port}`, policy: { retry: { maxAttempts: 1 } } } },
      faults: book.forHttpClient('payment'),
    });
    await store.add({ kind: 'error', target: { dependency: 'provider' }, probability: 1, durationMs: 60_000 });
    await book.refresh();
    const err = await http.request('provider', '/charges').catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(reached).toBe(0);
    expect(http.stats().provider!.breaker.window.failures).toBeGreaterThan(0);
    http.dispose();
    server.stop(true);
    await store.clear();
    await link.close();
    await store.close();
  });
});
