/**
 * The service HTTP frame, in-process (`app.handle`): health, JSON errors for every way a request can go wrong, the
 * body cap, and a Swagger UI that needs no internet.
 */
import { describe, expect, it } from 'bun:test';
import { Elysia, t } from 'elysia';
import { HttpError } from '../../runtime/http/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';

const logged: string[] = [];
const routes = new Elysia({ name: 'test-routes' })
  .post('/orders', ({ body }) => ({ accepted: body.items.length }), {
    body: t.Object({ items: t.Array(t.Object({ sku: t.String(), qty: t.Integer({ minimum: 1 }) })) }),
  })
  .get('/orders/:id', ({ params }) => {
    throw new HttpError(404, 'ORDER_NOT_FOUND', `no order ${params.id}`, { id: params.id });
  })
  .get('/search', ({ query }) => query, { query: t.Object({ limit: t.Numeric(), sort: t.Union([t.Literal('asc'), t.Literal('desc')]) }) })
  .get('/boom', () => {
    throw new Error('secret internals');
  });

const app = createServiceApp({ name: 'demo', description: 'a test service', log: (line) => logged.push(line) }).use(routes);

const url = (path: string) => `http://localhost${path}`;
const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }));
const json = async (res: Response) => (await res.json()) as { code: string; message: string; details?: unknown };

describe('createServiceApp', () => {
  it('should answer /health with status, service, pid and uptime', async () => {
    const res = await app.handle(new Request(url('/health')));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', service: 'demo', pid: process.pid });
    expect(typeof body.uptimeMs).toBe('number');
  });

  it('should report a failing dependency check as 503 degraded', async () => {
    const sick = createServiceApp({
      name: 'sick',
      checks: {
        redis: () => {
          throw new Error('connection refused');
        },
      },
    });
    const res = await sick.handle(new Request(url('/health')));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', checks: { redis: { ok: false, error: 'connection refused' } } });
  });

  it('should answer an unknown route with a JSON 404', async () => {
    const res = await app.handle(new Request(url('/nowhere')));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await json(res)).toEqual({ code: 'NOT_FOUND', message: 'no route for GET /nowhere' });
  });

  it('should answer a validation failure with 422 naming the missing field', async () => {
    const res = await postJson('/orders', '{}');
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.code).toBe('VALIDATION');
    expect(body.message).toBe('body.items is required');
    // One details shape for every error: an object of named facts; a validation failure's are its issues.
    expect(body.details).toEqual({ issues: [{ path: 'body.items', message: 'body.items is required' }] });
  });

  it('should name a nested field that has the wrong value', async () => {
    const res = await postJson('/orders', JSON.stringify({ items: [{ sku: 'A', qty: 0 }] }));
    expect(res.status).toBe(422);
    expect((await json(res)).message).toStartWith('body.items.0.qty is invalid');
  });

  it('should say what a query parameter accepts', async () => {
    const res = await app.handle(new Request(url('/search?limit=ten&sort=up')));
    expect(res.status).toBe(422);
    expect((await json(res)).message).toBe('query.limit is invalid: expected a number; query.sort is invalid: expected one of "asc", "desc"');
  });

  it('should accept a valid body', async () => {
    const res = await postJson('/orders', JSON.stringify({ items: [{ sku: 'A', qty: 2 }] }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1 });
  });

  it('should answer 415 to a body that is not JSON (text, a form, multipart, no content type), whatever it holds', async () => {
    const valid = JSON.stringify({ items: [{ sku: 'A', qty: 2 }] });
    for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', null]) {
      const request = new Request(url('/orders'), { method: 'POST', body: valid, headers: type === null ? {} : { 'content-type': type } });
      if (type === null) request.headers.delete('content-type');
      const res = await app.handle(request);
      const body = await json(res);
      expect({ type, status: res.status, code: body.code }).toEqual({ type, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(body.message).toContain('Content-Type: application/json');
    }
    for (const type of ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/merge-patch+json']) {
      expect({ type, status: (await postJson('/orders', valid, { 'content-type': type })).status }).toEqual({ type, status: 200 });
    }
  });

  it('should answer malformed JSON with 400', async () => {
    const res = await postJson('/orders', '{"items": [');
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe('MALFORMED_JSON');
    expect(body.message).toStartWith('request body is not valid JSON');
  });

  it('should refuse a declared Content-Length over 64 KiB with 413, even on an unknown route', async () => {
    for (const path of ['/orders', '/nowhere']) {
      const res = await postJson(path, '{}', { 'content-length': String(64 * 1024 + 1) });
      expect(res.status).toBe(413);
      expect((await json(res)).code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('should refuse a body over 64 KiB that does not declare its size with 413', async () => {
    const chunk = new TextEncoder().encode(`"${'x'.repeat(8 * 1024)}",`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"items":['));
        for (let i = 0; i < 9; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const request = new Request(url('/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(request.headers.get('content-length')).toBeNull();
    const res = await app.handle(request);
    expect(res.status).toBe(413);
    expect((await json(res)).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('should refuse a body over 64 KiB that declares a smaller size with 413 (a Request built in-process keeps both)', async () => {
    const text = JSON.stringify({ items: [`${'x'.repeat(70 * 1024)}`] });
    const res = await postJson('/orders', text, { 'content-length': '10' });
    expect(res.status).toBe(413);
    expect((await json(res)).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('should accept a body just under the limit', async () => {
    const items = Array.from({ length: 1500 }, (_, i) => ({ sku: `SKU-${i}`, qty: 1 }));
    const text = JSON.stringify({ items });
    expect(text.length).toBeLessThan(64 * 1024);
    const res = await postJson('/orders', text);
    expect(res.status).toBe(200);
  });

  it('should answer a thrown HttpError with its status, code, message and details', async () => {
    const res = await app.handle(new Request(url('/orders/42')));
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ code: 'ORDER_NOT_FOUND', message: 'no order 42', details: { id: '42' } });
  });

  it('should answer an unexpected error with 500 INTERNAL, no stack, logged once', async () => {
    logged.length = 0;
    const res = await app.handle(new Request(url('/boom')));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text).code).toBe('INTERNAL');
    expect(text).not.toContain('secret internals');
    expect(text).not.toContain(' at ');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('GET /boom failed: Error: secret internals');
  });

  it('should publish an OpenAPI document listing the routes', async () => {
    const res = await app.handle(new Request(url('/swagger/json')));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(doc.info.title).toBe('demo API');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/orders', '/orders/{id}']));
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/swagger'))).toBe(false);
  });

  it('should serve a Swagger UI page with no URL to any other host, and its assets', async () => {
    const res = await app.handle(new Request(url('/swagger')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('SwaggerUIBundle');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\/\/(unpkg|cdn|jsdelivr)/);

    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(
      expect.arrayContaining(['/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js']),
    );
    for (const asset of assets) {
      const file = await app.handle(new Request(url(asset)));
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('should not serve files outside the Swagger UI asset list', async () => {
    const res = await app.handle(new Request(url('/swagger/assets/..%2Fpackage.json')));
    expect(res.status).toBe(404);
    expect((await json(res)).code).toBe('NOT_FOUND');
  });
});

describe('createServiceApp errors, further', () => {
  it('should say which numbers a field accepts when one is out of range', async () => {
    const { createServiceApp } = await import('../../runtime/http/service-app.ts');
    const { t } = await import('elysia');
    const app = createServiceApp({ name: 'bounds' }).post('/w', ({ body }) => body, { body: t.Object({ weight: t.Integer({ minimum: 0, maximum: 100 }) }) });
    const res = await app.handle(new Request('http://localhost/w', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"weight":101}' }));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string };
    expect(body.message).toContain('body.weight');
    expect(body.message).toMatch(/100/);
  });

  it('should answer 500 without echoing the schema when a handler breaks its own response schema', async () => {
    const { createServiceApp } = await import('../../runtime/http/service-app.ts');
    const { t } = await import('elysia');
    const logged: string[] = [];
    const app = createServiceApp({ name: 'liar', log: (line) => logged.push(line) }).get('/x', () => ({ n: 'not a number' }) as never, {
      response: { 200: t.Object({ n: t.Number() }) },
    });
    const res = await app.handle(new Request('http://localhost/x'));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('not a number');
    expect(JSON.parse(text)).toEqual({ code: 'INTERNAL', message: 'internal error; the service logged the details' });
    expect(logged.join()).toContain('answered outside its response schema');
  });
});

describe('email format', () => {
  it('should accept a plain address and refuse ones without a domain or with spaces', async () => {
    const { createServiceApp } = await import('../../runtime/http/service-app.ts');
    const { t } = await import('elysia');
    const app = createServiceApp({ name: 'mail' }).post('/m', ({ body }) => body, { body: t.Object({ email: t.String({ format: 'email' }) }) });
    const send = (email: string) => app.handle(new Request('http://localhost/m', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) }));
    expect((await send('ada@example.com')).status).toBe(200);
    for (const bad of ['ada', 'ada@', 'ada@example', 'a da@example.com']) expect((await send(bad)).status).toBe(422);
  });
});
