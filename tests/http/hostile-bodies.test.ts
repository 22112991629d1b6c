/**
 * Requests the bad-input barrage (tests/fuzz) found answered with a 500, each pinned here against the service frame
 * in-process: bodies whose objects cannot be printed, bodies nested thousands of levels deep, strings holding a lone
 * surrogate, and Swagger asset names that exist on every object's prototype.
 */
import { describe, expect, it } from 'bun:test';
import { Elysia, t } from 'elysia';
import { MAX_JSON_DEPTH } from '../../runtime/http/body-limit.ts';
import { createServiceApp } from '../../runtime/http/index.ts';

const logged: string[] = [];
const app = createServiceApp({ name: 'demo', log: (line) => logged.push(line) }).use(
  new Elysia().post('/keys', ({ body }) => ({ key: body.key, meta: body.meta ?? null }), {
    body: t.Object({ key: t.String({ maxLength: 200 }), meta: t.Optional(t.Object({ note: t.String() }, { additionalProperties: true })) }),
  }),
);

const post = (body: string, contentType = 'application/json') =>
  app.handle(new Request('http://localhost/keys', { method: 'POST', headers: { 'content-type': contentType }, body }));
const nested = (depth: number, open: string, close: string) => `${open.repeat(depth)}"x"${close.repeat(depth)}`;

describe('service frame against hostile bodies', () => {
  it('should answer 422 naming the field when a field is an object with its own non-function toString or valueOf', async () => {
    for (const value of ['{"toString":"x"}', '{"valueOf":1}', '{"toString":1,"valueOf":2}', '{"a":{"toString":[]}}']) {
      const res = await post(`{"key":${value}}`);
      expect({ value, status: res.status }).toEqual({ value, status: 422 });
      expect(((await res.json()) as { message: string }).message).toContain('body.key is invalid');
    }
    // A form is no JSON: refused before anything reads its keys.
    const form = await post('key=1&toString=x&valueOf=2', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(logged).toEqual([]);
  });

  it('should keep such keys and values as sent when the body is valid', async () => {
    const res = await post('{"key":"k","meta":{"note":"n","toString":"x","valueOf":1}}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key: 'k', meta: { note: 'n', toString: 'x', valueOf: 1 } });
  });

  it(`should refuse a body nested deeper than ${MAX_JSON_DEPTH} levels with 422 BODY_TOO_DEEP, quickly`, async () => {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']] as const) {
      for (const depth of [MAX_JSON_DEPTH, 5_000, 10_000]) {
        const started = performance.now();
        const res = await post(`{"key":${nested(depth, open, close)}}`);
        const body = (await res.json()) as { code: string };
        expect({ open, depth, status: res.status, code: body.code }).toEqual({ open, depth, status: 422, code: 'BODY_TOO_DEEP' });
        // Elysia printing a 7,000-level value took a second; the depth check answers before validation runs.
        expect(performance.now() - started).toBeLessThan(100);
      }
    }
    // At the limit the body is judged by its schema as usual.
    const atLimit = await post(`{"key":"k","meta":${nested(MAX_JSON_DEPTH - 2, '{"a":', '}').replace(/^\{"a":/, '{"note":"n","a":')}}`);
    expect(atLimit.status).toBe(200);
    expect(logged).toEqual([]);
  });

  it('should refuse a string or key holding a lone surrogate with 400 MALFORMED_JSON naming where, and keep well-formed pairs', async () => {
    const cases: [body: string, message: string, details: { path: string; in: 'key' | 'value' }][] = [
      ['{"key":"\\udfff"}', 'body.key holds a lone surrogate (\\udfff)', { path: 'body.key', in: 'value' }],
      ['{"key":"ok\uFFFD\\ud800"}', 'body.key holds a lone surrogate (\\ud800)', { path: 'body.key', in: 'value' }],
      ['{"key":"\\ude00\\ud83d"}', 'body.key holds a lone surrogate (\\ude00)', { path: 'body.key', in: 'value' }],
      ['{"key":"k","meta":{"note":"n","list":["a","\\uDBFF"]}}', 'body.meta.list[1] holds a lone surrogate (\\udbff)', { path: 'body.meta.list[1]', in: 'value' }],
      ['{"key":"k","meta":{"note":"n","\\ud800x":1}}', 'a key of body.meta holds a lone surrogate (\\ud800)', { path: 'body.meta', in: 'key' }],
    ];
    for (const [body, message, details] of cases) {
      const res = await post(body);
      const answer = (await res.json()) as { code: string; message: string; details: unknown };
      expect({ body, status: res.status, code: answer.code, details: answer.details }).toEqual({ body, status: 400, code: 'MALFORMED_JSON', details });
      expect(answer.message).toContain(message);
    }
    // A pair escaped, the same character as UTF-8, and an escaped backslash before "ud800" are all well-formed.
    for (const [body, key] of [
      ['{"key":"\\ud83d\\ude00"}', '\u{1f600}'],
      ['{"key":"\u{1f600}"}', '\u{1f600}'],
      ['{"key":"\\\\ud800"}', '\\ud800'],
    ] as const) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 200 });
      expect(((await res.json()) as { key: string }).key).toBe(key);
    }
    expect(logged).toEqual([]);
  });

  it('should answer 404 for Swagger asset names that Object.prototype carries', async () => {
    for (const file of ['__proto__', 'toString', 'hasOwnProperty', 'constructor', 'valueOf']) {
      const res = await app.handle(new Request(`http://localhost/swagger/assets/${file}`));
      expect({ file, status: res.status }).toEqual({ file, status: 404 });
      expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
    expect(logged).toEqual([]);
  });
});
