/**
 * The control plane as `bun run dev` runs it: the supervisor (in-process, over real processes and a private
 * redis-server on free ports) mirrors its process table to Redis and obeys the control plane's commands; the real
 * control process (with the token the supervisor handed it) kills a process and sees it come back with a new pid,
 * pauses, resumes, stops, starts and restarts another, places orders through the real gateway, and shows the
 * payment breaker open under the "payment provider down" scenario.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPrefixOf } from '../../runtime/config.ts';
import { portOf } from '../../services/config.ts';
import { SupervisorBridge } from '../../runtime/supervisor/index.ts';
import { Supervisor } from '../../runtime/supervisor/index.ts';
import { mailroomProcesses } from '../../services/processes.ts';
import { waitFor } from '../helpers/redis.ts';
import { freePortOffset, ROOT } from '../supervisor/helpers.ts';

const TOKEN = 'bridge-test-token-abcdefghijklmnopqrstuvwxyz0123';
let supervisor: Supervisor;
let bridge: SupervisorBridge;
let dataDir: string;
let env: Record<string, string | undefined>;
let base: string;

const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};
const processes = async () => (await call('GET', '/control/topology')).body.processes as any[];
const row = async (name: string) => (await processes()).find((p) => p.name === name);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailroom-bridge-'));
  env = { ...process.env, MAILROOM_PORT_OFFSET: String(await freePortOffset()), REDIS_URL: undefined, MAILROOM_SAGA_PAYMENT_TIMEOUT_MS: '3000', MAILROOM_ADMISSION_MAX_AGE_MS: '5000' };
  // Admission control's age bound raised: this file kills, pauses and restarts processes just before it places orders,
  // and on a loaded machine the default 100 ms bound would refuse them all (tests/services/admission.test.ts tests it).
  bridge = new SupervisorBridge({ keyPrefix: keyPrefixOf(env), refreshMs: 250, log: () => {} });
  supervisor = new Supervisor({
    processes: mailroomProcesses({ dev: false, bun: process.execPath, env, controlToken: TOKEN }),
    cwd: ROOT,
    env,
    host: '127.0.0.1',
    privateRedis: { port: portOf('redis', env), dataDir: join(dataDir, 'redis') },
    backoff: { initialMs: 100, maxMs: 1_000, stableAfterMs: 10_000 },
    onEvent: bridge.onEvent,
    onChange: bridge.onChange,
    log: () => {},
    output: () => {},
  });
  await supervisor.start();
  await bridge.attach(supervisor);
  base = `http://127.0.0.1:${portOf('control', env)}`;
}, 40_000);

afterAll(async () => {
  await call('DELETE', '/control/chaos/rules').catch(() => {});
  await bridge?.stopListening();
  await supervisor?.stop();
  await bridge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the supervisor through the control plane', () => {
  it('should show every process the supervisor runs, up, with its pid', async () => {
    const rows = await processes();
    expect(rows.map((p) => p.name)).toEqual(['redis', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway', 'control']);
    for (const p of rows) {
      expect(p).toMatchObject({ status: 'up', pid: supervisor.child(p.name)!.pid!, restarts: 0, paused: false });
      expect(p.uptimeMs).toBeGreaterThan(0);
    }
    expect(rows.find((p) => p.name === 'order').port).toBe(portOf('order', env));
    const topology = (await call('GET', '/control/topology')).body;
    expect(topology.redis.ok).toBe(true);
    expect([...new Set(topology.nodes.map((n: any) => n.service))].sort()).toEqual(['inventory', 'notifications', 'order', 'payment', 'shipping']);
  });

  it('should refuse a command without the token (the real process got it from the supervisor)', async () => {
    const denied = await call('POST', '/control/processes/inventory/kill', {}, null);
    expect([denied.status, denied.body.code]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await call('POST', '/control/processes/inventory/kill', {}, 'x'.repeat(47));
    expect(wrong.status).toBe(401);
    const missing = await call('POST', '/control/processes/nosuch/kill', {});
    expect([missing.status, missing.body.code]).toEqual([404, 'UNKNOWN_PROCESS']);
  });

  it('should kill a process on command and show it back with a new pid', async () => {
    const before = await row('inventory');
    const killed = await call('POST', '/control/processes/inventory/kill', {});
    expect(killed.status).toBe(202);
    expect(killed.body).toEqual({ accepted: true, action: 'kill', process: 'inventory', pid: before.pid });
    const after = await waitFor('inventory back with a new pid', async () => {
      const now = await row('inventory');
      return now.pid !== before.pid && now.status === 'up' ? now : null;
    }, 10_000);
    expect(after).toMatchObject({ restarts: 1, lastExit: { code: null, signal: 'SIGKILL' } });
    expect(after.pid).toBe(supervisor.child('inventory')!.pid!);
    const health = (await (await fetch(`http://127.0.0.1:${portOf('inventory', env)}/health`)).json()) as { pid: number };
    expect(health.pid).toBe(after.pid);

    const events = await waitFor('the events of it', async () => {
      const { body } = await call('GET', '/control/events?type=process.*,chaos.action&limit=1000');
      const mine = body.filter((e: any) => e.process === 'inventory' || e.target === 'inventory');
      return mine.some((e: any) => e.type === 'process.healthy' && e.pid === after.pid) ? mine : null;
    });
    // In the order they happened (two processes write the stream, each in ~100 ms batches).
    events.sort((a: any, b: any) => a.at - b.at);
    expect(events.map((e: any) => e.type).slice(-4)).toEqual(['chaos.action', 'process.exited', 'process.started', 'process.healthy']);
    expect(events.at(-3)).toMatchObject({ source: 'supervisor', pid: before.pid, signal: 'SIGKILL' });
    expect(events.at(-4)).toMatchObject({ source: 'control', kind: 'kill', target: 'inventory' });
  }, 15_000);

  it('should pause and resume, stop and start, and restart a process', async () => {
    const act = async (action: string) => expect((await call('POST', `/control/processes/shipping/${action}`, {})).status).toBe(202);
    const until = (what: string, check: (p: any) => boolean) => waitFor(`shipping ${what}`, async () => check(await row('shipping')), 10_000);
    const first = await row('shipping');

    await act('pause');
    await until('paused and down', (p) => p.status === 'down' && p.paused && p.pid === first.pid);
    await act('resume');
    await until('up again', (p) => p.status === 'up' && !p.paused && p.pid === first.pid);

    await act('restart');
    await until('restarted', (p) => p.status === 'up' && p.pid !== first.pid && p.restarts === 1);

    await act('stop');
    await until('stopped', (p) => p.status === 'stopped' && p.pid === null);
    await act('start');
    await until('started', (p) => p.status === 'up' && p.pid !== null);

    const scenario = await call('POST', '/control/chaos/scenarios/crash-shipping');
    expect(scenario.status).toBe(201);
    expect(scenario.body).toEqual({ scenario: 'crash-shipping', rules: [], actions: [{ action: 'kill', process: 'shipping' }] });
    const started = await row('shipping');
    await until('back after the crash', (p) => p.status === 'up' && p.pid !== started.pid && p.lastExit?.signal === 'SIGKILL');
  }, 25_000);
});

describe('the shop through the control plane', () => {
  it('should place orders through the real gateway and count the sagas they start', async () => {
    // The tests before killed, paused and restarted processes: while a service is behind, the gateway's admission
    // control refuses new orders (429). Start once it admits one again.
    await waitFor('the gateway to admit an order', async () => {
      const { status } = await call('POST', '/api/orders', { customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, lines: [{ sku: 'TAPE-48', qty: 1 }], address: { name: 'Ada', line1: '12 St James Square', city: 'London', country: 'GB' } });
      return status === 202;
    }, 20_000, 250);
    const started = await call('POST', '/control/load', { ratePerSec: 20, durationS: 1 });
    expect(started.status).toBe(202);
    const load = await waitFor('the load to finish', async () => {
      const { body } = await call('GET', '/control/load');
      return !body.running && body.inFlight === 0 ? body : null;
    }, 10_000);
    expect(load.placed).toBeGreaterThan(10);
    // Every order accepted, or refused by admission control (a client's cue to come back): none failed.
    expect(load).toMatchObject({ failed: 0, failures: {} });
    expect(load.accepted + load.refused).toBe(load.placed);
    expect(load.accepted).toBeGreaterThan(0);
    const stats = await waitFor('every saga to complete', async () => {
      const { body } = await call('GET', '/control/stats');
      return body.sagas.completed >= load.accepted ? body : null;
    }, 15_000);
    expect(stats.sagaLatencyMs.p50).toBeGreaterThan(0);
    const page = await call('GET', '/control/sagas?status=completed&limit=5');
    expect(page.body.items).toHaveLength(5);
    const saga = await call('GET', `/control/sagas/${page.body.items[0].orderId}`);
    expect(saga.body.log.map((e: any) => `${e.step} ${e.phase}`)).toContain('saga completed');
  }, 30_000);

  it('should show the payment breaker open under "payment provider down", with its reason', async () => {
    const scenario = await call('POST', '/control/chaos/scenarios/payment-provider-down', { durationMs: 30_000 });
    expect(scenario.body.rules).toHaveLength(1);
    await call('POST', '/control/load', { ratePerSec: 10, durationS: 2 });
    const open = await waitFor('the payment breaker to open', async () => {
      const { body } = await call('GET', '/control/breakers');
      return body.find((b: any) => b.process === 'payment' && b.dependency === 'provider' && b.state === 'open');
    }, 15_000);
    expect(open.reason).toMatch(/^opened: \d+ of \d+ calls failed/);
    expect(open.lastTrips.length).toBeGreaterThan(0);
    const trip = await waitFor('the trip on the event stream', async () => {
      const { body } = await call('GET', '/control/events?type=breaker.transition&source=payment&limit=1000');
      return body.find((e: any) => e.to === 'open');
    });
    expect(trip.reason).toBe(open.lastTrips.at(-1).reason);
    expect((await call('DELETE', '/control/chaos/rules')).body.removed).toBe(1);
    await call('DELETE', '/control/load');
  }, 30_000);
});
