/**
 * The control plane's guard rails, in-process: every mutating route (found from the app's own route table, so a
 * new one cannot slip through) answers 401 without the token or with a wrong one — before it validates or does
 * anything; CORS answers only the panel's origins, preflights included; and bad input of every kind is a clear
 * 4xx JSON error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupPrefix, testPrefix } from '../helpers/redis.ts';
import { controlApp, PANEL_ORIGINS, TOKEN } from './helpers.ts';

const prefix = testPrefix('control-security');
let control: Awaited<ReturnType<typeof controlApp>>;

beforeAll(async () => {
  control = await controlApp({ prefix, follow: false });
});
afterAll(async () => {
  await control.close();
  await cleanupPrefix(prefix);
});

const SAMPLE: Record<string, string> = { orderId: 'ord-1', service: 'tsvc', partition: '0', id: '1-0', name: 'inventory', action: 'kill' };
/** A body each route would accept, so only the token decides. */
const VALID_BODY: Record<string, unknown> = {
  'POST /control/sagas/:orderId/resolve': { note: 'refunded by phone' },
  'POST /control/chaos/rules': { kind: 'error', target: { dependency: 'provider' }, probability: 1, durationMs: 60_000 },
  'POST /control/services/:name/pause': { seconds: 5 },
  'POST /control/load': { ratePerSec: 5 },
  'PUT /control/strangler': { weight: 50 },
};

describe('control plane authorization', () => {
  const mutating = () => control.app.routes.filter((r: { method: string }) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)) as { method: string; path: string }[];

  it('should guard every mutating route: 401 without a token, with a wrong one, or with the wrong scheme', async () => {
    expect(mutating().length).toBeGreaterThanOrEqual(13);
    for (const route of mutating()) {
      const path = route.path.replace(/:(\w+)/g, (_, name: string) => SAMPLE[name]!);
      const body = VALID_BODY[`${route.method} ${route.path}`] ?? {};
      for (const [what, headers] of [
        ['no token', {}],
        ['a wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
        ['the token with another scheme', { authorization: `Basic ${TOKEN}` }],
        ['the bare token', { authorization: TOKEN }],
      ] as const) {
        const res = await control.json(route.method, path, { body, token: null, headers });
        expect(`${route.method} ${route.path} with ${what}: ${res.status} ${res.body?.code}`).toBe(`${route.method} ${route.path} with ${what}: 401 UNAUTHORIZED`);
        expect(res.body.message).toMatch(/token/);
      }
    }
  });

  it('should refuse before validating or acting: an unauthenticated valid rule is not added, an invalid one is not judged', async () => {
    const denied = await control.json('POST', '/control/chaos/rules', { body: VALID_BODY['POST /control/chaos/rules'], token: null });
    expect(denied.status).toBe(401);
    const garbage = await control.json('POST', '/control/chaos/rules', { body: '{not json', token: null });
    expect(garbage.status).toBe(401);
    expect((await control.json('GET', '/control/chaos/rules')).body).toEqual([]);
    const load = await control.json('POST', '/control/load', { body: { ratePerSec: 5 }, token: 'nope' });
    expect(load.status).toBe(401);
    expect((await control.json('GET', '/control/load')).body.running).toBe(false);
  });

  it('should let reads through without a token', async () => {
    for (const path of ['/control/topology', '/control/chaos/rules', '/control/chaos/scenarios', '/control/load', '/control/stats', '/control/machines/breaker']) {
      expect(`${path} ${(await control.call('GET', path, { token: null })).status}`).toBe(`${path} 200`);
    }
  });
});

describe('control plane CORS', () => {
  const evil = 'http://evil.example:5173';
  const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

  it('should answer the panel’s origins (dev server and control plane, 127.0.0.1 and localhost)', async () => {
    expect(PANEL_ORIGINS).toEqual(['http://127.0.0.1:5173', 'http://localhost:5173', 'http://127.0.0.1:3100', 'http://localhost:3100']);
    for (const origin of PANEL_ORIGINS) {
      const res = await control.call('GET', '/control/topology', { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toContain('Origin');
    }
  });

  it('should answer a preflight from the panel with the methods and headers it needs', async () => {
    const res = await control.call('OPTIONS', '/control/chaos/rules', {
      token: null,
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(res.headers.get('access-control-allow-headers')).toContain('last-event-id');
  });

  it('should give another origin no CORS headers at all: not on reads, not on preflights, not on errors', async () => {
    const read = await control.call('GET', '/control/topology', { headers: { origin: evil } });
    expect(read.status).toBe(200);
    expect(corsHeaders(read)).toEqual([]);
    const preflight = await control.call('OPTIONS', '/control/processes/inventory/kill', {
      token: null,
      headers: { origin: evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(corsHeaders(preflight)).toEqual([]);
    // A changing request from another site's page is refused before the token is even looked at (the frame's
    // cross-site check), and the refusal carries no CORS headers either.
    const denied = await control.call('POST', '/control/load', { body: { ratePerSec: 5 }, token: null, headers: { origin: evil } });
    expect(denied.status).toBe(403);
    expect(corsHeaders(denied)).toEqual([]);
    // Same origin (no Origin header): nothing to allow.
    expect(corsHeaders(await control.call('GET', '/control/topology'))).toEqual([]);
  });

  it('should let the panel read an error (401 and 404 carry its origin)', async () => {
    const origin = 'http://localhost:3100';
    const denied = await control.call('DELETE', '/control/load', { token: null, headers: { origin } });
    expect([denied.status, denied.headers.get('access-control-allow-origin')]).toEqual([401, origin]);
    const missing = await control.call('GET', '/control/nothing-here', { headers: { origin } });
    expect([missing.status, missing.headers.get('access-control-allow-origin')]).toEqual([404, origin]);
  });
});

describe('control plane input errors', () => {
  const cases: [method: string, path: string, body: unknown, status: number, code: string, mentions: string[]][] = [
    ['GET', '/control/actors?limit=0', undefined, 422, 'VALIDATION', ['query.limit']],
    ['GET', '/control/actors?limit=501', undefined, 422, 'VALIDATION', ['query.limit']],
    ['GET', '/control/actors?service=Not_A_Service', undefined, 422, 'VALIDATION', ['query.service']],
    ['GET', '/control/actors?service=nosuch', undefined, 404, 'UNKNOWN_SERVICE', ['nosuch']],
    ['GET', '/control/actors?cursor=garbage', undefined, 400, 'INVALID_CURSOR', ['cursor']],
    ['GET', '/control/actors?q=has%20space', undefined, 422, 'VALIDATION', ['query.q']],
    ['GET', '/control/actors/tsvc/counter/none', undefined, 404, 'ACTOR_NOT_FOUND', ['tsvc/counter/none']],
    ['GET', '/control/actors/Bad/counter/x', undefined, 422, 'VALIDATION', ['params.service']],
    ['GET', '/control/machines/tsvc/nothing', undefined, 404, 'MACHINE_NOT_FOUND', ['nothing']],
    ['GET', '/control/deadletters?limit=9999', undefined, 422, 'VALIDATION', ['query.limit']],
    ['GET', '/control/deadletters?service=nosuch', undefined, 404, 'UNKNOWN_SERVICE', ['nosuch']],
    ['POST', '/control/deadletters/tsvc/0/not-an-id/replay', undefined, 422, 'VALIDATION', ['params.id']],
    ['POST', '/control/deadletters/tsvc/x/1-0/replay', undefined, 422, 'VALIDATION', ['params.partition']],
    ['DELETE', '/control/deadletters/nosuch/0/1-0', undefined, 404, 'UNKNOWN_SERVICE', ['nosuch']],
    ['POST', '/control/chaos/rules', {}, 422, 'VALIDATION', ['body.kind is required', 'body.target is required', 'body.probability is required', 'body.durationMs is required']],
    [
      'POST',
      '/control/chaos/rules',
      { kind: 'explode', target: {}, probability: 1.5, durationMs: -1 },
      422,
      'INVALID_CHAOS_RULE',
      ['kind must be one of', 'target needs a service or a dependency', 'probability must be between 0 and 1', 'durationMs must be between'],
    ],
    ['POST', '/control/chaos/rules', { kind: 'drop', target: { dependency: 'provider' }, probability: 1, durationMs: 1000 }, 422, 'INVALID_CHAOS_RULE', ['a drop rule targets a service']],
    ['POST', '/control/chaos/rules', { kind: 'latency', target: { service: 'inventory' }, probability: 1, durationMs: 1000 }, 422, 'INVALID_CHAOS_RULE', ['latencyMs needs']],
    ['POST', '/control/chaos/rules', '{"kind": "error",', 400, 'MALFORMED_JSON', ['not valid JSON']],
    ['DELETE', '/control/chaos/rules/r-none', undefined, 404, 'RULE_NOT_FOUND', ['r-none']],
    ['POST', '/control/chaos/scenarios/meteor-strike', {}, 404, 'SCENARIO_NOT_FOUND', ['payment-provider-down', 'crash-shipping']],
    ['POST', '/control/chaos/scenarios/slow-inventory', { durationMs: 10 }, 422, 'VALIDATION', ['body.durationMs']],
    ['POST', '/control/processes/inventory/explode', {}, 422, 'VALIDATION', ['params.action', '"kill"']],
    ['POST', '/control/processes/inventory/restart', { signal: 'SIGTERM' }, 422, 'VALIDATION', ['body.signal applies to kill only']],
    ['POST', '/control/processes/inventory/kill', { signal: 'SIGUSR1' }, 422, 'VALIDATION', ['body.signal']],
    ['POST', '/control/processes/inventory/kill', {}, 503, 'SUPERVISOR_UNAVAILABLE', ['no supervisor']],
    ['POST', '/control/services/tsvc/pause', { seconds: 0 }, 422, 'VALIDATION', ['body.seconds']],
    ['POST', '/control/services/nosuch/pause', { seconds: 5 }, 404, 'UNKNOWN_SERVICE', ['nosuch']],
    ['POST', '/control/load', { ratePerSec: 0 }, 422, 'VALIDATION', ['body.ratePerSec']],
    ['POST', '/control/load', { ratePerSec: 501 }, 422, 'VALIDATION', ['body.ratePerSec']],
    ['POST', '/control/load', { ratePerSec: 5, durationS: 0 }, 422, 'VALIDATION', ['body.durationS']],
    ['PUT', '/control/strangler', { weight: 101 }, 422, 'VALIDATION', ['body.weight']],
    ['PUT', '/control/strangler', { weight: 50 }, 503, 'UPSTREAM_UNAVAILABLE', ['gateway is unavailable']],
    ['GET', '/control/sagas/ord-1', undefined, 503, 'UPSTREAM_UNAVAILABLE', ['order is unavailable']],
    ['GET', '/control/sagas/bad%20id', undefined, 422, 'VALIDATION', ['params.orderId']],
    ['POST', '/control/sagas/ord-1/resolve', { note: '' }, 422, 'VALIDATION', ['body.note']],
    ['GET', '/control/events?from=yesterday', undefined, 422, 'VALIDATION', ['query.from']],
    ['GET', '/control/events?limit=5000', undefined, 422, 'VALIDATION', ['query.limit']],
    ['GET', '/control/events/stream?from=nope', undefined, 422, 'VALIDATION', ['query.from']],
  ];

  it('should answer every bad input with a JSON error that says what is wrong', async () => {
    // Known to the cluster, so the routes that check a service get past that.
    const { createClient } = await import('redis');
    const redis = createClient({ url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
    await redis.connect();
    await redis.hSet(`${prefix}:service:tsvc`, 'partitions', '4');
    await redis.sAdd(`${prefix}:services`, 'tsvc');
    await redis.quit();

    const wrong: string[] = [];
    for (const [method, path, body, status, code, mentions] of cases) {
      const res = await control.json(method, path, { body });
      const missing = mentions.filter((text) => !String(res.body?.message).includes(text));
      if (res.status !== status || res.body?.code !== code || missing.length || !res.headers.get('content-type')?.includes('application/json')) {
        wrong.push(`${method} ${path} → ${res.status} ${res.body?.code} "${res.body?.message}" (expected ${status} ${code} mentioning ${JSON.stringify(mentions)})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('should refuse a Last-Event-ID that is not an event id, and a body over 64 KiB', async () => {
    const res = await control.json('GET', '/control/events/stream', { headers: { 'last-event-id': 'drop table' } });
    expect([res.status, res.body.code]).toEqual([422, 'VALIDATION']);
    const big = await control.json('POST', '/control/chaos/rules', { body: { note: 'x'.repeat(70_000) } });
    expect([big.status, big.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});

describe('control plane OpenAPI', () => {
  it('should document every control route at /swagger/json', async () => {
    const { status, body } = await control.json('GET', '/swagger/json');
    expect(status).toBe(200);
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const routes = (control.app.routes as { method: string; path: string }[])
      .filter((r) => r.path.startsWith('/control/'))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
  });
});
