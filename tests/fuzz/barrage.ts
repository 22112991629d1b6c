/**
 * The bad-input barrage's harness: find every route of an app (its OpenAPI document, plus the routes Elysia knows
 * that the document hides), turn a route's valid-input generator into a stream of mostly hostile requests, send them
 * in-process with `app.handle`, and hold every answer to the frame's promise: never a 5xx, every 4xx a JSON
 * `{ code, message }` whose message a person can read, and every status one the route's document lists.
 */
import fc from 'fast-check';
import type { Elysia } from 'elysia';
import { encodeLoosely, mutationOf, nastyHeaderValue, nastyJson, nastyParam, nastyQuery, toJsonText } from './arbitraries.ts';

// Any app will do, whatever its routes and decorators.
type AnyElysia = Elysia<any, any, any, any, any, any, any>;

/** `POST /orders/{id}`: a method and an OpenAPI-style path. */
export type RouteKey = string;

export type Route = {
  method: string;
  path: string;
  key: RouteKey;
  params: string[];
  /** The statuses its OpenAPI document lists; absent for a route the document hides (Swagger UI, panel files). */
  documented?: ReadonlySet<number>;
};

/** One request's inputs. Params and query are URL text as sent; a body is JSON unless `raw` says otherwise. */
export type RouteInput = {
  params?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: { body: string | Uint8Array<ArrayBuffer>; contentType: string | null };
};

export type RouteFuzz = {
  /** Inputs the route accepts (so some samples reach the handler); the barrage derives hostile ones from them. */
  valid: fc.Arbitrary<RouteInput>;
  /** Query keys the route reads, for hostile queries. */
  queryKeys?: readonly string[];
  /** Header names the route reads, for hostile headers. */
  headerNames?: readonly string[];
  /** Requests to send, when fewer than the barrage's default make sense (a route that reads no input at all). */
  runs?: number;
  /** Run after each request (e.g. lifting a fault rule a valid PUT just set). */
  after?: (input: RouteInput, response: Response) => Promise<void>;
};

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
/** A route's path parameters; a trailing wildcard (`/*`) is the parameter `*`. */
const paramsOf = (path: string) => [...[...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!), ...(path.endsWith('/*') ? ['*'] : [])];

/**
 * Every route of an app: the OpenAPI document's operations and whatever else Elysia routes (hidden docs pages),
 * so a route added later cannot escape the barrage by leaving itself out of the document.
 *
 * @example
 * (await discoverRoutes(app)).map((r) => r.key); // ['GET /health', 'POST /orders', 'GET /orders/{id}', …]
 */
export async function discoverRoutes(app: AnyElysia): Promise<Route[]> {
  const res = await app.handle(new Request('http://localhost/swagger/json'));
  if (res.status !== 200) throw new Error(`GET /swagger/json answered ${res.status}`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
  const keys = new Set<string>();
  const documented = new Map<string, Set<number>>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      keys.add(`${method.toUpperCase()} ${path}`);
      documented.set(`${method.toUpperCase()} ${path}`, new Set(Object.keys(op.responses ?? {}).map(Number)));
    }
  }
  for (const r of app.routes as { method: string; path: string }[]) {
    if (r.method === 'HEAD' || r.method === 'OPTIONS') continue;
    // A route for every method (`.all`) is one route per method a client may send it.
    for (const method of r.method === 'ALL' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : [r.method]) keys.add(`${method} ${toOpenApiPath(r.path)}`);
  }
  return [...keys].sort().map((key) => {
    const [method, path] = key.split(' ') as [string, string];
    return { method, path, key, params: paramsOf(path), documented: documented.get(key) };
  });
}

const hasBody = (method: string) => method !== 'GET' && method !== 'HEAD';

/** Content types a browser may send cross-origin without asking first, and others a JSON route never asked for. */
const OTHER_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/ld+json', 'text/plain; charset=utf-8'];

/** A body as an HTML form would send it: top-level fields, nested values as JSON text. */
function formText(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return encodeLoosely(toJsonText(body));
  return Object.entries(body)
    .map(([k, v]) => `${encodeLoosely(k)}=${encodeLoosely(typeof v === 'string' ? v : toJsonText(v))}`)
    .join('&');
}

type Raw = NonNullable<RouteInput['raw']>;
const JSON_TYPE = 'application/json';

/**
 * Raw bodies no JSON route should accept quietly, and JSON under content types it never asked for — each made from
 * the valid body's text, so one arbitrary serves every sample (building arbitraries per sample is what costs).
 */
const rawBodies: fc.Arbitrary<(validText: string) => Raw> = fc.oneof(
  fc.constantFrom<(validText: string) => Raw>(
    (t) => ({ body: t.slice(0, Math.max(1, Math.floor(t.length / 2))), contentType: JSON_TYPE }),
    () => ({ body: '{', contentType: JSON_TYPE }),
    () => ({ body: '{"a":}', contentType: JSON_TYPE }),
    () => ({ body: '[1,]', contentType: JSON_TYPE }),
    () => ({ body: "{'a':1}", contentType: JSON_TYPE }),
    () => ({ body: 'NaN', contentType: JSON_TYPE }),
    () => ({ body: 'undefined', contentType: JSON_TYPE }),
    (t) => ({ body: `\uFEFF${t}`, contentType: JSON_TYPE }),
    (t) => ({ body: `${t}garbage`, contentType: JSON_TYPE }),
    (t) => ({ body: `${t}${t}`, contentType: JSON_TYPE }),
    (t) => ({ body: t, contentType: 'application/json; charset=utf-16' }),
    (t) => ({ body: t, contentType: 'APPLICATION/JSON' }),
    (t) => ({ body: t, contentType: 'application/merge-patch+json' }),
    (t) => ({ body: t, contentType: 'text/plain' }),
    (t) => ({ body: t, contentType: 'text/html' }),
    (t) => ({ body: t, contentType: 'application/xml' }),
    (t) => ({ body: t, contentType: 'application/octet-stream' }),
    (t) => ({ body: t, contentType: 'application/x-www-form-urlencoded' }),
    (t) => ({ body: t, contentType: 'multipart/form-data' }),
    (t) => ({ body: t, contentType: 'multipart/form-data; boundary=x' }),
    (t) => ({ body: t, contentType: ';;;' }),
    (t) => ({ body: t, contentType: null }),
    () => ({ body: 'a=1&a=2&__proto__[polluted]=yes', contentType: 'application/x-www-form-urlencoded' }),
    () => ({ body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', contentType: 'multipart/form-data; boundary=x' }),
    () => ({ body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0xc0, 0xaf]), contentType: JSON_TYPE }),
    () => ({ body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), contentType: JSON_TYPE }),
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 64 }).map((body) => () => ({ body, contentType: JSON_TYPE })),
);

/**
 * What the barrage sends to one route: a few valid inputs, and many that are each wrong in one way (a field of the
 * body, a path parameter, the query, a header, the whole body, its encoding or its content type).
 */
export function requestsFor(route: Route, fuzz: RouteFuzz): fc.Arbitrary<RouteInput> {
  const { valid } = fuzz;
  const headerName = fc.constantFrom(...(fuzz.headerNames ?? []), 'x-forwarded-for', 'origin', 'authorization', 'accept');
  const ways: fc.WeightedArbitrary<RouteInput>[] = [
    { weight: 2, arbitrary: fc.tuple(valid, nastyQuery(fuzz.queryKeys ?? ['x'])).map(([v, query]) => ({ ...v, query })) },
    { weight: 1, arbitrary: fc.tuple(valid, headerName, nastyHeaderValue).map(([v, name, value]) => ({ ...v, headers: { ...v.headers, [name]: value } })) },
  ];
  for (const name of route.params) {
    ways.push({ weight: 4, arbitrary: fc.tuple(valid, nastyParam).map(([v, value]) => ({ ...v, params: { ...v.params, [name]: value } })) });
  }
  if (hasBody(route.method)) {
    ways.push(
      // The one way that needs the valid value to build its arbitrary: a mutation at one of its own paths.
      { weight: 8, arbitrary: valid.chain((v) => mutationOf(v.body ?? {}).map((body) => ({ ...v, body }))) },
      { weight: 2, arbitrary: fc.tuple(valid, nastyJson).map(([v, body]) => ({ ...v, body })) },
      { weight: 2, arbitrary: fc.tuple(valid, rawBodies).map(([v, raw]) => ({ ...v, raw: raw(toJsonText(v.body ?? {})) })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(valid.chain((v) => mutationOf(v.body ?? {}).map((body) => ({ v, body }))), fc.constantFrom(...OTHER_TYPES))
          .map(([{ v, body }, contentType]) => ({ ...v, raw: { body: contentType.includes('form') ? formText(body) : toJsonText(body), contentType } })),
      },
    );
  }
  return fc.oneof({ weight: 1, arbitrary: valid }, { weight: 15, arbitrary: fc.oneof(...ways) });
}

/** The request for one input (always to `http://localhost`: Elysia misreads very short hosts). */
export function toRequest(route: Route, input: RouteInput): Request {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => input.params?.[name] ?? 'x').replace(/\/\*$/, `/${input.params?.['*'] ?? ''}`);
  const url = `http://localhost${path}${input.query ? `?${input.query}` : ''}`;
  const headers = new Headers(input.headers);
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (hasBody(route.method)) {
    if (input.raw) {
      body = input.raw.body;
      if (input.raw.contentType !== null) headers.set('content-type', input.raw.contentType);
    } else if (input.body !== undefined) {
      body = toJsonText(input.body);
      headers.set('content-type', 'application/json');
    }
  }
  const request = new Request(url, { method: route.method, headers, body });
  // A body given as a string gets text/plain from fetch; "no content type" must really be none.
  if (input.raw?.contentType === null) request.headers.delete('content-type');
  return request;
}

/** A short, printable account of a request for failure messages. */
export function describeRequest(request: Request, input: RouteInput): string {
  const body = input.raw ? (typeof input.raw.body === 'string' ? input.raw.body : `<${input.raw.body.byteLength} bytes>`) : input.body === undefined ? '' : toJsonText(input.body);
  const shown = body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body;
  return `${request.method} ${request.url.length > 300 ? `${request.url.slice(0, 300)}…` : request.url} content-type=${request.headers.get('content-type')} body=${shown}`;
}

/**
 * Checks one answer against the frame's promise and returns its parsed body: no 5xx; a 4xx is JSON with a non-empty
 * string `code` and a non-empty `message`.
 *
 * @example
 * await expectWellFormed(await app.handle(request), 'POST /orders {}');
 */
export async function expectWellFormed(response: Response, described: string | (() => string), secrets: readonly string[] = []): Promise<{ status: number; body: unknown }> {
  // Described only when something is wrong: building the description for every sample costs more than the check.
  const what = () => (typeof described === 'string' ? described : described());
  // A live stream (Server-Sent Events) never ends: its headers are the answer; closing it must free it.
  if (response.status < 400 && response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, body: undefined };
  }
  const text = await response.text();
  if (response.status >= 500) throw new Error(`${what()} → ${response.status}: ${text.slice(0, 500)}`);
  if (response.headers.get('content-type')?.includes('json')) {
    const leaks = leaksIn(text, secrets);
    if (leaks.length > 0) throw new Error(`${what()} → ${response.status} leaks ${leaks.join(', ')}: ${text.slice(0, 500)}`);
  }
  let body: unknown = text;
  if (response.status >= 400) {
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) throw new Error(`${what()} → ${response.status} with content-type "${type}": ${text.slice(0, 300)}`);
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${what()} → ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
    const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || code.trim() === '') throw new Error(`${what()} → ${response.status} without a code: ${text.slice(0, 300)}`);
    if (typeof message !== 'string' || message.trim() === '') throw new Error(`${what()} → ${response.status} without a message: ${text.slice(0, 300)}`);
  }
  return { status: response.status, body };
}

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/**
 * What no JSON answer may carry: a stack frame, a path on this machine, a dependency's file, or a secret the caller
 * did not send (the control token is passed in by the test).
 */
export function leaksIn(text: string, secrets: readonly string[] = []): string[] {
  const found: string[] = [];
  if (/\n\s+at \S.*:\d+:\d+/.test(text)) found.push('a stack trace');
  if (text.includes(ROOT)) found.push(`a path under ${ROOT}`);
  if (text.includes('node_modules')) found.push('a node_modules path');
  for (const secret of secrets) if (secret && text.includes(secret)) found.push('a secret');
  return found;
}

/**
 * The largest request head (request line and headers) a Bun server reads; a longer one never reaches the app — Bun
 * itself answers 431 (measured: a request line of ~16,330 bytes passes, one longer does not). In-process there is
 * no such limit, so the barrage sends nothing a real server would not deliver.
 */
export const MAX_REQUEST_HEAD = 16_000;

function headSize(request: Request): number {
  let size = request.method.length + request.url.length - 'http://localhost'.length + 12;
  for (const [name, value] of request.headers) size += name.length + value.length + 4;
  return size;
}

/** Runs per route; `FUZZ_RUNS` raises it (never below the floor of 1,000). */
export const RUNS_PER_ROUTE = Math.max(1_000, Number(process.env.FUZZ_RUNS ?? 1_000));

/**
 * Sends `runs` generated requests to one route and checks each answer; returns how many were sent and the
 * statuses seen, for the test to show that hostile and valid inputs both got through.
 */
export async function barrage(app: AnyElysia, route: Route, fuzz: RouteFuzz, runs = RUNS_PER_ROUTE, secrets: readonly string[] = []) {
  const statuses = new Map<number, number>();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(requestsFor(route, fuzz), async (input) => {
      const request = toRequest(route, input);
      fc.pre(headSize(request) <= MAX_REQUEST_HEAD);
      const response = await app.handle(request);
      // A secret the request itself carried may come back (an echo is no leak); any other may not.
      const carried = [input.query ?? '', ...Object.values(input.params ?? {}), ...Object.values(input.headers ?? {})];
      const { status } = await expectWellFormed(response, () => describeRequest(request, input), secrets.filter((secret) => !carried.some((v) => v.includes(secret))));
      if (route.documented && !route.documented.has(status)) {
        throw new Error(`${describeRequest(request, input)} → ${status}, a status ${route.key}'s document does not list (${[...route.documented].join(', ')})`);
      }
      sent++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      await fuzz.after?.(input, response);
    }),
    { numRuns: runs, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
  return { sent, statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)) };
}

/** An input with only a body. */
export const bodyOnly = (body: fc.Arbitrary<unknown>): fc.Arbitrary<RouteInput> => body.map((b) => ({ body: b }));

/** An input with only path parameters. */
export const paramsOnly = (params: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<RouteInput> =>
  fc.record(params).map((p) => ({ params: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, encodeLoosely(v)])) }));

/** No input at all: the barrage still sends hostile queries and headers. */
export const nothing: fc.Arbitrary<RouteInput> = fc.constant({});
