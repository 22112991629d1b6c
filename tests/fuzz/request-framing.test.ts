/**
 * How requests are framed, across every route of every app of the shop: malformed JSON is a 400 `MALFORMED_JSON`;
 * a JSON body under another content type (text, form, multipart, none) is never taken for JSON and never a 5xx;
 * a body over 64 KiB is a 413 whether its size is declared (refused before it is sent), streamed without a size,
 * or chunked over a real socket, and one just under the cap is read; and any path or method no app routes is a
 * JSON 404 — 1,000 generated ones per app.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { connect } from 'node:net';
import { DEFAULT_BODY_LIMIT } from '../../runtime/http/body-limit.ts';
import { describeRequest, discoverRoutes, expectWellFormed, RUNS_PER_ROUTE, type Route } from './barrage.ts';
import { encodeLoosely, nastyString } from './arbitraries.ts';
import { APP_NAMES, startInProcessShop, type AppName } from './in-process-shop.ts';

const shop = await startInProcessShop();
const routes = Object.fromEntries(await Promise.all(APP_NAMES.map(async (name) => [name, await discoverRoutes(shop.apps[name])] as const))) as Record<AppName, Route[]>;
afterAll(() => shop.close());

/** Routes whose OpenAPI operation declares a request body (the ones that parse and validate one). */
const withBodySchema = new Set<string>();
for (const name of APP_NAMES) {
  const doc = (await (await shop.apps[name].handle(new Request('http://localhost/swagger/json'))).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) if (op.requestBody) withBodySchema.add(`${name} ${method.toUpperCase()} ${path}`);
}

const auth = { authorization: `Bearer ${shop.control.token}` };
const SAMPLE: Record<string, string> = { partition: '0', id: '1-0', action: 'restart', name: 'nosuch', service: 'order', orderId: 'ord-framing', type: 'order', sku: 'BOX-M', file: 'x' };
const pathOf = (route: Route) => route.path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE[name] ?? 'x').replace(/\/\*$/, '/x');
const bodyRoutes = APP_NAMES.flatMap((name) => routes[name].filter((r) => r.method !== 'GET').map((route) => ({ name, route })));

function send(name: AppName, route: Route, body: BodyInit | null, contentType: string | null, extra: Record<string, string> = {}) {
  const request = new Request(`http://localhost${pathOf(route)}`, { method: route.method, headers: { ...auth, ...extra }, body, duplex: 'half' } as RequestInit);
  if (contentType === null) request.headers.delete('content-type');
  else request.headers.set('content-type', contentType);
  return shop.apps[name].handle(request);
}

/** One raw HTTP/1.1 exchange over a real socket: what the server wrote back before closing (or within `ms`). */
function rawExchange(port: number, head: string, chunks: (string | Uint8Array)[], ms = 3_000): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(head);
      for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
    });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      // Enough once the whole JSON error is in.
      if (/\r\n\r\n[\s\S]*\}\s*$/.test(answer)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}
const statusOfRaw = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const bodyOfRaw = (answer: string) => {
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  const json = body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1);
  return JSON.parse(json) as { code: string; message: string };
};

describe('request framing', () => {
  it('should cover every app and find body routes in each of them', () => {
    // Notifications only reads (its notices come from the order log): it has no route that takes a body.
    expect(new Set(bodyRoutes.map((r) => r.name))).toEqual(new Set(APP_NAMES.filter((name) => name !== 'notifications')));
    expect(withBodySchema.size).toBeGreaterThan(15);
  });

  it('should answer malformed JSON with 400 MALFORMED_JSON on every route that takes a body', async () => {
    const malformed = ['{', '{"a":}', '[1,]', "{'a':1}", 'NaN', '{"a":1}}', '\u0000', '{"a":"\\x"}', '{"a":01}'];
    for (const { name, route } of bodyRoutes) {
      for (const text of malformed) {
        const res = await send(name, route, text, 'application/json');
        const what = `${name} ${route.key} with ${JSON.stringify(text)}`;
        const { status, body } = await expectWellFormed(res, what);
        if (withBodySchema.has(`${name} ${route.key}`)) {
          expect({ what, status, code: (body as { code: string }).code }).toEqual({ what, status: 400, code: 'MALFORMED_JSON' });
        }
      }
    }
  }, 30_000);

  it('should never take a JSON body sent as text, a form, multipart or with no content type for JSON, nor answer 5xx', async () => {
    const json = '{"note":"x","weight":1,"qty":1,"amount":1,"idempotencyKey":"k-framing","seconds":1,"ratePerSec":1}';
    const multipart = new FormData();
    multipart.set('json', json);
    for (const { name, route } of bodyRoutes) {
      for (const [contentType, body] of [
        ['text/plain', json],
        ['text/plain; charset=utf-8', json],
        [null, json],
        ['application/octet-stream', json],
        ['application/x-www-form-urlencoded', json],
        ['multipart/form-data; boundary=nope', json],
      ] as const) {
        const what = `${name} ${route.key} as ${contentType}`;
        const { status } = await expectWellFormed(await send(name, route, body, contentType), what);
        // A route that needs a body gets none it can use from JSON sent this way.
        // Every route that reads a body takes JSON only: anything else is a 415, never read as something else.
        if (withBodySchema.has(`${name} ${route.key}`)) expect({ what, status }).toEqual({ what, status: 415 });
      }
      const res = await shop.apps[name].handle(new Request(`http://localhost${pathOf(route)}`, { method: route.method, headers: auth, body: multipart }));
      await expectWellFormed(res, `${name} ${route.key} as real multipart`);
    }
  }, 30_000);

  it('should answer 413 to a body over 64 KiB streamed without a declared size, and read one just under it', async () => {
    const over = DEFAULT_BODY_LIMIT + 1;
    for (const { name, route } of bodyRoutes) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let sent = 0; sent < over; sent += 8_192) controller.enqueue(new Uint8Array(Math.min(8_192, over - sent)).fill(0x20));
          controller.close();
        },
      });
      const res = await send(name, route, stream, 'application/json');
      const { status, body } = await expectWellFormed(res, `${name} ${route.key} streaming ${over} bytes`);
      expect({ route: `${name} ${route.key}`, status, code: (body as { code: string }).code }).toEqual({ route: `${name} ${route.key}`, status: 413, code: 'PAYLOAD_TOO_LARGE' });

      // Just under the cap: a valid JSON document padded with whitespace is read and judged on its content.
      const under = `{}${' '.repeat(DEFAULT_BODY_LIMIT - 2)}`;
      const ok = await expectWellFormed(await send(name, route, under, 'application/json'), `${name} ${route.key} with ${DEFAULT_BODY_LIMIT} bytes`);
      expect({ route: `${name} ${route.key}`, status: ok.status }).not.toEqual({ route: `${name} ${route.key}`, status: 413 });
    }
  }, 30_000);

  it('should refuse a declared Content-Length over 64 KiB before the body is sent, and cut a chunked body at the cap, over a real socket', async () => {
    for (const { name, route } of bodyRoutes) {
      const port = shop.ports[name];
      const target = `${route.method} ${pathOf(route)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nConnection: close\r\n`;

      // Declared: only the headers go out; the answer must come anyway.
      const declared = await rawExchange(port, `${target}Content-Length: ${DEFAULT_BODY_LIMIT * 4}\r\n\r\n`, ['{"a":']);
      expect({ route: `${name} ${route.key}`, status: statusOfRaw(declared) }).toEqual({ route: `${name} ${route.key}`, status: 413 });
      expect(bodyOfRaw(declared).code).toBe('PAYLOAD_TOO_LARGE');

      // Chunked: 80 KiB in 4 KiB chunks with no size declared.
      const chunk = `1000\r\n${' '.repeat(0x1000)}\r\n`;
      const chunked = await rawExchange(port, `${target}Transfer-Encoding: chunked\r\n\r\n`, [...Array(20).fill(chunk), '0\r\n\r\n']);
      expect({ route: `${name} ${route.key}`, status: statusOfRaw(chunked) }).toEqual({ route: `${name} ${route.key}`, status: 413 });
      expect(bodyOfRaw(chunked).code).toBe('PAYLOAD_TOO_LARGE');

      // Both: a small declared length beside a chunked body of 80 KiB is refused (Bun answers 400 itself today), never
      // read whole on the length's word.
      const both = await rawExchange(port, `${target}Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n`, [...Array(20).fill(chunk), '0\r\n\r\n']);
      expect({ route: `${name} ${route.key}`, refused: [400, 413].includes(statusOfRaw(both)) }).toEqual({ route: `${name} ${route.key}`, refused: true });
    }
  }, 60_000);

  it(`should answer ${RUNS_PER_ROUTE} generated unknown paths and methods per app with a JSON 404`, async () => {
    const known = (name: AppName) => new Set(routes[name].map((r) => r.key));
    for (const name of APP_NAMES) {
      // The control plane serves the panel for any other GET; under /control it must still say 404.
      const base = name === 'control' ? '/control/zz-' : '/zz-';
      const unknown = fc.oneof(
        fc
          .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), fc.array(nastyString.filter((s) => s.length > 0 && s.length < 200), { minLength: 1, maxLength: 3 }))
          .map(([method, segments]) => ({ method, path: `${base}${segments.map(encodeLoosely).join('/')}` })),
        // A path that exists, with a method it does not take.
        fc.tuple(fc.constantFrom(...routes[name].filter((r) => !r.path.endsWith('/*'))), fc.constantFrom('PATCH', 'PUT', 'DELETE', 'POST')).filter(([r, method]) => !known(name).has(`${method} ${r.path}`)).map(([r, method]) => ({ method, path: pathOf(r) })),
      );
      await fc.assert(
        fc.asyncProperty(unknown, async ({ method, path }) => {
          const request = new Request(`http://localhost${path}`, { method, headers: auth });
          const { status, body } = await expectWellFormed(await shop.apps[name].handle(request), `${name} ${describeRequest(request, {})}`);
          expect({ app: name, method, path, status, code: (body as { code: string }).code }).toEqual({ app: name, method, path, status: 404, code: 'NOT_FOUND' });
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
  }, 60_000);
});
