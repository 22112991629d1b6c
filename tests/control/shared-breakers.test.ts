/**
 * Shared breakers in the control plane: two payment processes' provider clients (each with its own breaker store,
 * as two replicas have) share one breaker through the real Redis; `GET /control/breakers/shared` lists it once, with
 * both processes and each one's own view. And the switch that turns sharing on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createBreakerStore, type BreakerStore, type HttpClient } from '../../runtime/resilience/index.ts';
import { createProviderClient } from '../../services/payment/effects.ts';
import { openSharedBreakers, sharedBreakersOf } from '../../services/shared/shared-breakers.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { controlApp } from './helpers.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const prefix = testPrefix('shared-breakers-route');
const nowhere = `http://127.0.0.1:${freePort()}`;
let control: Awaited<ReturnType<typeof controlApp>>;
const stores: BreakerStore[] = [];
const clients: HttpClient[] = [];

beforeAll(async () => {
  control = await controlApp({ prefix, follow: false });
  for (const instance of ['payment:1001', 'payment:1002']) {
    const store = createBreakerStore({ url: SHARED_REDIS, prefix, instance, pollMs: 100 });
    stores.push(store);
    clients.push(createProviderClient({ baseUrl: nowhere, breakerStore: store, policy: { retry: false } }));
  }
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  for (const s of stores) s.close();
  await control?.close();
  await cleanupPrefix(prefix);
});

describe('GET /control/breakers/shared', () => {
  it('should list a shared breaker once, with every process using it and each one’s view', async () => {
    const [a, b] = clients as [HttpClient, HttpClient];
    await waitFor('both replicas sharing', () => a.stats().provider?.breaker.sharing?.mode === 'shared' && b.stats().provider?.breaker.sharing?.mode === 'shared');
    const empty = await control.json('GET', '/control/breakers/shared');
    expect(empty.status).toBe(200);

    // Replica a calls a provider that is not there until its breaker opens; replica b made no call at all.
    for (let i = 0; i < 6 && a.stats().provider?.breaker.state === 'closed'; i++) await a.request('provider', '/charges').catch(() => {});
    await waitFor('the trip to reach replica b', () => b.stats().provider?.breaker.state === 'open', 2_000);

    const listed = await waitFor('both instances heartbeating the open breaker', async () => {
      const { body } = await control.json('GET', '/control/breakers/shared');
      const row = (body as any[]).find((r) => r.name === 'provider');
      return row?.instances.length === 2 && row.instances.every((i: any) => i.state === 'open') ? body : null;
    });
    expect(listed).toHaveLength(1);
    const [row] = listed as any[];
    expect(row).toMatchObject({ name: 'provider', state: 'open', cause: 'trip', trips: 1 });
    expect(row.openedAt).toBeGreaterThan(0);
    expect(row.instances.map((i: any) => [i.instance, i.source, i.mode]).sort()).toEqual([
      ['payment:1001', 'payment', 'shared'],
      ['payment:1002', 'payment', 'shared'],
    ]);
  });

  it('should say why when Redis cannot be read (a cluster, where the store does not run)', async () => {
    const { sharedBreakers } = await import('../../services/control/breaker-routes.ts');
    expect(await rejectionOf(sharedBreakers(undefined))).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
  });
});

describe('MAILROOM_SHARED_BREAKERS', () => {
  it('should share the breakers only when set to 1, and refuse anything but 0 or 1', () => {
    expect([undefined, '', '0', '1'].map((v) => sharedBreakersOf({ MAILROOM_SHARED_BREAKERS: v }))).toEqual([false, false, false, true]);
    expect(() => sharedBreakersOf({ MAILROOM_SHARED_BREAKERS: 'yes' })).toThrow('MAILROOM_SHARED_BREAKERS=yes must be 1');
    expect(openSharedBreakers('payment', {})).toBeUndefined();
    expect(() => openSharedBreakers('payment', { MAILROOM_SHARED_BREAKERS: '1', MAILROOM_REDIS_CLUSTER: '127.0.0.1:7000' })).toThrow('needs a single Redis');
  });
});
