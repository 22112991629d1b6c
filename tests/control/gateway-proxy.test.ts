import { afterAll, describe, expect, it } from 'bun:test';
import { createServiceApp } from '../../runtime/http/index.ts';
import { gatewayProxy } from '../../services/control/gateway-proxy.ts';

const seen: { method: string; path: string; body: string; key: string | null; auth: string | null }[] = [];
const gateway = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url);
    seen.push({ method: req.method, path: url.pathname + url.search, body: await req.text(), key: req.headers.get('idempotency-key'), auth: req.headers.get('authorization') });
    return Response.json({ ok: true }, { status: req.method === 'POST' ? 202 : 200 });
  },
});
afterAll(() => gateway.stop(true));

describe('gatewayProxy', () => {
  it('should pass /api requests to the gateway with their method, query, body and idempotency key, and nothing else', async () => {
    const app = createServiceApp({ name: 'control' }).use(gatewayProxy(() => `http://127.0.0.1:${gateway.port}`));
    const get = await app.handle(new Request('http://localhost/api/orders?limit=5'));
    expect(get.status).toBe(200);
    const post = await app.handle(
      new Request('http://localhost/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1', authorization: 'Bearer secret' }, body: '{"a":1}' }),
    );
    expect(post.status).toBe(202);
    expect(seen).toEqual([
      { method: 'GET', path: '/api/orders?limit=5', body: '', key: null, auth: null },
      { method: 'POST', path: '/api/orders', body: '{"a":1}', key: 'k1', auth: null },
    ]);
  });

  it('should answer 502 naming the gateway when it is down', async () => {
    const app = createServiceApp({ name: 'control' }).use(gatewayProxy(() => 'http://127.0.0.1:9'));
    const res = await app.handle(new Request('http://localhost/api/catalogue'));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe('GATEWAY_UNREACHABLE');
  });
});
