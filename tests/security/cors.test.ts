/**
 * CORS across the whole shop, in-process: no app — gateway, services, provider, control plane — tells a browser on
 * another origin that it may read an answer, on any route and on any preflight; the control plane allows exactly
 * the panel's origins (the Vite dev server and itself), preflights included.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { panelOrigins } from '../../services/control/security.ts';
import { discoverRoutes, type Route } from '../fuzz/barrage.ts';
import { APP_NAMES, startInProcessShop, type AppName } from '../fuzz/in-process-shop.ts';

const shop = await startInProcessShop();
const routes = Object.fromEntries(await Promise.all(APP_NAMES.map(async (name) => [name, await discoverRoutes(shop.apps[name])] as const))) as Record<AppName, Route[]>;
afterAll(() => shop.close());

const PANEL = panelOrigins();
/** Origins that are not the panel's, some of them one character away from it. */
const FOREIGN = [
  'http://evil.example',
  'null',
  'https://127.0.0.1:5173',
  `${PANEL[0]!}/`,
  `${PANEL[0]!}.evil.example`,
  `http://127.0.0.1.evil.example:${new URL(PANEL[0]!).port}`,
  `http://127.0.0.1:${Number(new URL(PANEL[0]!).port) + 1}`,
  'http://127.0.0.1',
  'http://0.0.0.0:5173',
];
const SAMPLE: Record<string, string> = { partition: '0', id: '1-0', action: 'restart', name: 'order', service: 'order', orderId: 'ord-1', type: 'order', sku: 'BOX-M', file: 'swagger-ui.css' };
const pathOf = (route: Route) => route.path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE[name] ?? 'x').replace(/\/\*$/, '/index.html');

const corsHeaders = (res: Response) =>
  Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-allow-')).map(([name, value]) => [name, value]));

function preflight(path: string, origin: string, method: string): Request {
  return new Request(`http://localhost${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });
}

describe('CORS', () => {
  it('should give a foreign origin no CORS header on any route of any app, reads and preflights alike', async () => {
    let checked = 0;
    for (const name of APP_NAMES) {
      for (const route of routes[name]) {
        const path = pathOf(route);
        for (const origin of FOREIGN) {
          const pre = await shop.apps[name].handle(preflight(path, origin, route.method));
          await pre.body?.cancel();
          expect({ app: name, route: route.key, origin, preflight: corsHeaders(pre) }).toEqual({ app: name, route: route.key, origin, preflight: {} });
          expect(pre.status).toBeLessThan(500);
          if (route.method !== 'GET' || route.path.endsWith('/stream')) continue;
          const res = await shop.apps[name].handle(new Request(`http://localhost${path}`, { headers: { origin } }));
          await res.body?.cancel();
          expect({ app: name, route: route.key, origin, read: corsHeaders(res) }).toEqual({ app: name, route: route.key, origin, read: {} });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  }, 60_000);

  it('should allow the panel’s origins on the control plane, for reads and for token-carrying preflights', async () => {
    expect(PANEL.length).toBeGreaterThanOrEqual(2);
    for (const origin of PANEL) {
      const read = await shop.apps.control.handle(new Request('http://localhost/control/health', { headers: { origin } }));
      expect(read.status).toBe(200);
      expect(read.headers.get('access-control-allow-origin')).toBe(origin);
      expect(read.headers.get('vary') ?? '').toContain('Origin');

      const pre = await shop.apps.control.handle(preflight('/control/chaos/rules', origin, 'POST'));
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-methods') ?? '').toContain('POST');
      expect((pre.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('authorization');
      // Never a wildcard, and no cookies: the token travels in a header the page sets itself.
      expect(pre.headers.get('access-control-allow-origin')).not.toBe('*');
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('should still require the token from the panel’s own origin', async () => {
    const res = await shop.apps.control.handle(
      new Request('http://localhost/control/load', { method: 'DELETE', headers: { origin: PANEL[0]! } }),
    );
    expect(res.status).toBe(401);
  });
});
