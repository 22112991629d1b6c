import { describe, expect, it } from 'bun:test';
import { createServiceApp } from '../../runtime/http/index.ts';
import { crossSiteRefusal } from '../../runtime/http/cross-site.ts';
import { trustedOrigins } from '../../services/config.ts';

const app = createServiceApp({ name: 'shop', trustedOrigins: trustedOrigins() }).post('/things', () => ({ ok: true })).get('/things', () => ({ ok: true }));
const post = (headers: Record<string, string>) => app.handle(new Request('http://localhost/things', { method: 'POST', headers }));

describe('cross-site requests', () => {
  it('should refuse a changing request another site’s page makes, by Origin or Sec-Fetch-Site', async () => {
    const byOrigin = await post({ origin: 'http://evil.example' });
    expect(byOrigin.status).toBe(403);
    expect(((await byOrigin.json()) as { code: string; message: string }).message).toContain('http://evil.example');
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
  });

  it('should let programs, same-site pages and the panel’s origins through, and reads from anywhere', async () => {
    expect((await post({})).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    for (const origin of trustedOrigins()) expect((await post({ origin })).status).toBe(200);
    expect((await app.handle(new Request('http://localhost/things', { headers: { origin: 'http://evil.example' } }))).status).toBe(200);
  });

  it('should refuse a request whose Host is not loopback (DNS rebinding)', async () => {
    const res = await app.handle(new Request('http://localhost/things', { headers: { host: 'evil.example:3000' } }));
    expect(res.status).toBe(421);
    expect((await app.handle(new Request('http://localhost/things', { headers: { host: '127.0.0.1:3000' } }))).status).toBe(200);
  });
});

describe('same-origin requests', () => {
  // What Swagger UI served by a process sends when it calls that process: its own origin, marked same-origin.
  const served = createServiceApp({ name: 'shop' }).post('/things', () => ({ ok: true }));
  const postTo = (url: string, headers: Record<string, string>) => served.handle(new Request(`${url}/things`, { method: 'POST', headers }));

  it('should let a page of the server itself change things (Origin = its own, Sec-Fetch-Site: same-origin)', async () => {
    const own = { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000', 'sec-fetch-site': 'same-origin' };
    expect((await postTo('http://127.0.0.1:3000', own)).status).toBe(200);
    expect((await postTo('http://localhost:3002', { origin: 'http://localhost:3002', host: 'localhost:3002', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // An older browser sends the Origin without Sec-Fetch-Site.
    expect((await postTo('http://127.0.0.1:3000', { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' })).status).toBe(200);
  });

  it('should refuse another port, another name or another scheme of the same machine, and a contradicting Sec-Fetch-Site', async () => {
    expect((await postTo('http://127.0.0.1:3000', { origin: 'http://127.0.0.1:3001', host: '127.0.0.1:3000', 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await postTo('http://127.0.0.1:3000', { origin: 'http://localhost:3000', host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await postTo('http://127.0.0.1:3000', { origin: 'https://127.0.0.1:3000', host: '127.0.0.1:3000' })).status).toBe(403);
    expect((await postTo('http://127.0.0.1:3000', { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('should refuse a rebound name even when its Origin matches its Host', async () => {
    const rebound = { origin: 'http://evil.example:3000', host: 'evil.example:3000', 'sec-fetch-site': 'same-origin' };
    expect((await postTo('http://evil.example:3000', rebound)).status).toBe(421);
    // Serving on a LAN address there is no Host check; the match must still be under the server's own name.
    const request = new Request('http://evil.example:3000/things', { method: 'POST', headers: rebound });
    expect(crossSiteRefusal(request, new Set(), '10.0.0.5')?.status).toBe(403);
    const own = new Request('http://10.0.0.5:3000/things', { method: 'POST', headers: { origin: 'http://10.0.0.5:3000', host: '10.0.0.5:3000', 'sec-fetch-site': 'same-origin' } });
    expect(crossSiteRefusal(own, new Set(), '10.0.0.5')).toBeNull();
  });
});
