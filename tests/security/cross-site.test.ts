import { describe, expect, it } from 'bun:test';
import { createServiceApp } from '../../runtime/index.ts';
import { trustedOrigins } from '../../runtime/http/cross-site.ts';

const app = createServiceApp({ name: 'shop' }).post('/things', () => ({ ok: true })).get('/things', () => ({ ok: true }));
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
