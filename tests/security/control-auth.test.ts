/**
 * The control plane's bearer token, route by route: every mutating route its OpenAPI document or router lists (so
 * a route added later is covered without touching this file) answers 401 with a JSON error and
 * `WWW-Authenticate: Bearer` to a request without the token, with a wrong one, or with the right one carried any
 * other way — before its input is even validated — and lets the right token through. Reads need no token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Elysia } from 'elysia';
import { createServiceApp } from '../../runtime/http/index.ts';
import { openControlContext, type ControlContext } from '../../services/control/context.ts';
import { gatewayProxy } from '../../services/control/gateway-proxy.ts';
import { controlRoutes } from '../../services/control/routes.ts';
import { panelOrigins } from '../../services/control/security.ts';
import { discoverRoutes, type Route } from '../fuzz/barrage.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('control-auth');
const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
let ctx: ControlContext;
let app: ReturnType<typeof build>;
let routes: Route[];
/** As main.ts builds it: the control API, and the gateway's API passed through for the built panel. */
const build = (context: ControlContext) =>
  createServiceApp({ name: 'control', log: () => {} }).use(
    new Elysia().use(controlRoutes(context, { token, origins: panelOrigins() })).use(gatewayProxy(() => 'http://127.0.0.1:9')),
  );

beforeAll(async () => {
  // Upstreams nobody listens on: a request the token lets through fails further on, never here.
  ctx = await openControlContext({ redis: SHARED_REDIS, keyPrefix: prefix, origins: () => 'http://127.0.0.1:9', follow: false });
  app = build(ctx);
  routes = await discoverRoutes(app);
}, 30_000);
afterAll(async () => {
  ctx.load.stop();
  await ctx.close();
  await cleanupPrefix(prefix);
});

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Sample values for path parameters: well-formed, so only the token can be what stops the request. */
const SAMPLE: Record<string, string> = { partition: '0', id: '1-0', action: 'restart', name: 'order', service: 'order', orderId: 'ord-1', type: 'order' };

function request(route: Route, headers: Record<string, string>, options: { query?: string; body?: string } = {}): Request {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE[name] ?? 'x').replace(/\/\*$/, '/orders');
  return new Request(`http://localhost${path}${options.query ?? ''}`, {
    method: route.method,
    headers: { 'content-type': 'application/json', ...headers },
    body: options.body ?? '{}',
  });
}

describe('control plane token', () => {
  it('should find the mutating routes in its OpenAPI document and router', () => {
    const mutating = routes.filter((r) => MUTATING.has(r.method)).map((r) => r.key);
    // The control API as its issue defines it: chaos, processes, dead letters, sagas, load, strangler.
    for (const key of ['POST /control/chaos/rules', 'POST /control/processes/{name}/{action}', 'PUT /control/strangler', 'POST /control/load', 'DELETE /control/load', 'POST /api/*', 'PUT /api/*']) {
      expect(mutating).toContain(key);
    }
  });

  it('should answer 401 with a JSON error to every mutation without a token, or with a wrong one, before validating it', async () => {
    const wrong: [string, Record<string, string>, string?][] = [
      ['no header', {}],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['another token', { authorization: `Bearer ${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}` }],
      ['the token plus a character', { authorization: `Bearer ${token}x` }],
      ['the token less a character', { authorization: `Bearer ${token.slice(0, -1)}` }],
      ['the token in another case', { authorization: `Bearer ${token.toUpperCase()}` }],
      ['the token as Basic credentials', { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }],
      ['the token with no scheme', { authorization: token }],
      ['the token in another header', { 'x-control-token': token, cookie: `token=${token}` }],
      ['the token in the query', {}, `?token=${token}`],
    ];
    const mutating = routes.filter((r) => MUTATING.has(r.method));
    for (const route of mutating) {
      for (const [how, headers, query] of wrong) {
        // A body that fails every schema: a 401 must come first.
        const res = await app.handle(request(route, headers, { query, body: '{"not":"valid"' }));
        const body = (await res.json()) as { code?: string; message?: string };
        expect({ route: route.key, how, status: res.status, code: body.code }).toEqual({ route: route.key, how, status: 401, code: 'UNAUTHORIZED' });
        expect(body.message?.length).toBeGreaterThan(10);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
  }, 30_000);

  it('should let the right token through on every mutation (the token is what stops the others)', async () => {
    for (const route of routes.filter((r) => MUTATING.has(r.method))) {
      const res = await app.handle(request(route, { authorization: `Bearer ${token}` }, { body: '{"not":"valid"' }));
      expect({ route: route.key, status: res.status }).not.toEqual({ route: route.key, status: 401 });
    }
  }, 30_000);

  it('should answer reads without a token', async () => {
    for (const route of routes.filter((r) => r.method === 'GET' && r.path.startsWith('/control/') && !r.path.endsWith('/stream'))) {
      const res = await app.handle(new Request(`http://localhost${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE[name] ?? 'x')}`));
      await res.body?.cancel();
      expect({ route: route.key, status: res.status }).not.toEqual({ route: route.key, status: 401 });
    }
  }, 30_000);
});
