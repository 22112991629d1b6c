/**
 * The OpenAPI document every process publishes at `/swagger/json`, complete enough to use: `@elysiajs/openapi`
 * turns the routes' schemas into paths, and this module finishes what it leaves out or gets wrong for us — JSON
 * request bodies (it skips them when the frame parses bodies itself), examples, integers as integers (not the
 * string-or-integer union Elysia coerces with), paging bounds, the statuses the frame itself answers with (400,
 * 403, 413, 415, 421, 422, 500, and 503 where chaos rules may fail a request) with the one error schema, a
 * sentence on when each status comes, `servers`, tags and a bearer scheme where one guards the changing calls.
 */
import { toOpenAPISchema } from '@elysiajs/openapi';
import { OptionalKind } from '@sinclair/typebox';
import { t, type Elysia } from 'elysia';

// Any app will do; Elysia's seven type parameters say nothing useful here.
type AnyElysia = Elysia<any, any, any, any, any, any, any>;
type Json = Record<string, any>;

/** A tag an operation may carry, with the sentence Swagger UI shows under it. */
export type DocumentTag = { name: string; description: string };

/**
 * A bearer token on every changing request (POST, PUT, PATCH, DELETE), or on every request but `/health` with
 * `everyRequest` (an exposed control plane guards its reads too).
 */
export type BearerSecurity = { description: string; everyRequest?: boolean };

/** The system's service credential, on every operation but `/health` and those `isPublic` names (exposed mode). */
export type ServiceSecurity = { isPublic: (path: string, method: string) => boolean };

export type DocumentOptions = {
  title: string;
  version: string;
  description: string;
  tags?: DocumentTag[];
  bearer?: BearerSecurity;
  service?: ServiceSecurity;
  /** Whether chaos rules may fail this process's requests (then every operation may answer 503 INJECTED_FAULT). */
  chaos?: boolean;
  /**
   * Whether admission control guards this process's changing requests (every one of them queues work for an
   * actor): then each may answer 429 OVERLOADED, or 503 when the backlog cannot be read, with Retry-After.
   */
  admission?: boolean;
};

/** When a route refused by admission control answers 429 (list it in a route's `answers`, or set `admission`). */
export const OVERLOADED_ANSWER =
  'OVERLOADED: a service this request would queue work for is too far behind (details.service; details.reason: backlog or age, with the figures and bounds); nothing was done, retry after Retry-After seconds';
/** The 503 admission control answers when it cannot read the backlog (Redis does not answer). */
export const BACKLOG_UNREADABLE_ANSWER = 'DEPENDENCY_UNAVAILABLE (details.reason unsampled): the mailboxes’ backlog could not be read, Redis does not answer; nothing was done, retry after Retry-After seconds';

/** The header a 429, and a 503 that says when to come back, carry. */
const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 }, example: 1 },
};

/**
 * The key under which a schema carries bounds that only the route checks (Elysia words an out-of-range query number
 * without its field's name, so the routes check ranges themselves); the document shows them as minimum, maximum and
 * default.
 */
export const DOCUMENTED_RANGE = 'x-documented-range';

/**
 * An optional integer query parameter whose range the route checks (so its 422 names the field), documented with
 * `minimum`, `maximum` and `default`.
 *
 * @example
 * query: t.Object({ limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Orders per page') })
 */
export function pageLimit(range: { readonly min: number; readonly max: number; readonly default: number }, what: string) {
  const documented = { min: range.min, max: range.max, default: range.default };
  return t.Optional(t.Integer({ description: `${what}, ${range.min}–${range.max} (default ${range.default})`, [DOCUMENTED_RANGE]: documented }));
}

/**
 * What a route says about each status it answers with, for `detail.responses`: one sentence on when.
 *
 * @example
 * detail: { summary: 'One order', responses: answers({ 200: 'The order', 404: 'No order has this id' }) }
 */
export function answers(when: Record<number, string>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries(when).map(([status, description]) => [status, { description }]));
}

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** The one error body, as a component every error response refers to. */
export const ERROR_SCHEMA: Json = {
  type: 'object',
  description: 'Every error: a literal code for programs, a message a person can act on, and details with named facts',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', description: 'A literal, stable code (VALIDATION, ORDER_NOT_FOUND, …)', examples: ['VALIDATION'] },
    message: { type: 'string', description: 'What went wrong and what to do about it', examples: ['body.lines is required'] },
    details: {
      type: 'object',
      description: 'Named facts about the error (an id, a dependency and when to retry, …); a VALIDATION error lists each field that failed in `issues`',
      additionalProperties: true,
      properties: {
        issues: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: { path: { type: 'string', examples: ['body.lines.0.qty'] }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** What the frame answers by itself, and when. */
const FRAME = {
  400: 'MALFORMED_JSON: the body is not valid JSON, or a string or key in it holds a lone surrogate (`\\udfff`): not well-formed Unicode',
  403: 'CROSS_SITE_REQUEST: a page of another site sent this request from a browser',
  404: 'NOT_FOUND: no route matches the path (a path parameter must not contain `/`)',
  413: 'PAYLOAD_TOO_LARGE: the body is over 64 KiB',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body is not sent as Content-Type: application/json',
  421: 'WRONG_HOST: the Host header is not 127.0.0.1 or localhost (DNS rebinding)',
  422: 'VALIDATION: a parameter or the body does not match its schema; details.issues names each field (BODY_TOO_DEEP: the body nests deeper than 64 levels)',
  500: 'INTERNAL: a bug; the service logged the details, the answer has none',
  503: 'INJECTED_FAULT: a chaos rule failed this request on purpose (the rule may name another status)',
} as const;

/** A generic sentence for a status a route declares without saying when. */
const GENERIC: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the work goes on after the answer',
  204: 'Done, nothing to show',
  400: 'The request is malformed',
  401: 'UNAUTHORIZED: no bearer token, or not this one',
  404: 'Not found',
  409: 'Conflict with the current state',
  422: FRAME[422],
  503: 'Unavailable for now; retry shortly',
};

/** Facts about one route the generator drops: its notes per status and whether its body may be left out. */
type RouteFacts = { notes: Record<string, { description: string }>; optionalBody: boolean };

const openApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}');

type RouteRecord = { method: string; path: string; hooks?: Json };

/** Every route of the app and of the plugins it uses (what `@elysiajs/openapi` reads; protected in Elysia's types). */
const routesOf = (app: AnyElysia) => (app as unknown as { getGlobalRoutes(): RouteRecord[] }).getGlobalRoutes();

/**
 * The raw document of an app, generated by `@elysiajs/openapi` from a view of its routes in which no route has a
 * parser (the frame's own parser is a function, and the generator writes `content: {}` for those) and no notes per
 * status (the generator drops them when a route has response schemas); the facts it would lose come back separately.
 */
function rawDocument(app: AnyElysia): { raw: Json; facts: Map<string, RouteFacts> } {
  const facts = new Map<string, RouteFacts>();
  const routes = routesOf(app).map((route) => {
    const hooks = route.hooks ?? {};
    const body = hooks.body as Json | undefined;
    facts.set(`${route.method.toLowerCase()} ${openApiPath(route.path)}`, {
      notes: (hooks.detail?.responses as RouteFacts['notes']) ?? {},
      optionalBody: body !== undefined && OptionalKind in body,
    });
    const detail = hooks.detail ? { ...hooks.detail, responses: undefined } : undefined;
    return { ...route, hooks: { ...hooks, parse: undefined, detail } };
  });
  const view = { getGlobalRoutes: () => routes, getGlobalDefinitions: () => (app as Json).getGlobalDefinitions?.() };
  const raw = toOpenAPISchema(view as unknown as AnyElysia, undefined, undefined, undefined, '3.1.0') as Json;
  return { raw, facts };
}

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A schema as a client should read it: the string-or-number unions Elysia adds to coerce query text become the
 * number they stand for, route-checked ranges become minimum/maximum/default, and `examples` stay.
 */
export function cleanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(cleanSchema);
  if (!isObject(schema)) return schema;
  let out: Json = { ...schema };
  if (Array.isArray(out.anyOf)) {
    const numeric = out.anyOf.filter((s: Json) => s?.type === 'integer' || s?.type === 'number');
    const coerced = out.anyOf.filter((s: Json) => s?.type === 'string' && ['integer', 'numeric', 'number'].includes(s.format));
    if (numeric.length === 1 && coerced.length + numeric.length === out.anyOf.length) {
      const { anyOf: _, ...rest } = out;
      out = { ...rest, ...numeric[0] };
    }
  }
  const range = out[DOCUMENTED_RANGE] as { min: number; max: number; default: number } | undefined;
  if (range) {
    delete out[DOCUMENTED_RANGE];
    out = { ...out, minimum: range.min, maximum: range.max, default: range.default };
  }
  for (const [key, value] of Object.entries(out)) {
    if (key === 'examples' || key === 'example' || key === 'default' || key === 'const' || key === 'enum') continue;
    if (isObject(value) || Array.isArray(value)) out[key] = cleanSchema(value);
  }
  return out;
}

const isErrorSchema = (schema: Json | undefined) => !!schema?.properties?.code && !!schema.properties.message && schema.type === 'object';

/** The first example a schema carries, if any. */
const exampleOf = (schema: Json | undefined): unknown => (Array.isArray(schema?.examples) ? schema.examples[0] : schema?.example);

/**
 * Finishes one operation: JSON request body with its example, parameter examples, every status with a sentence,
 * errors as the one Error schema, and its security.
 */
function finishOperation(method: string, path: string, op: Json, facts: RouteFacts | undefined, options: DocumentOptions): Json {
  const out: Json = { ...op };
  const parameters: Json[] = ((out.parameters ?? []) as Json[]).map((p) => {
    const schema = cleanSchema(p.schema) as Json;
    const example = exampleOf(schema);
    return { ...p, schema, ...(p.description === undefined && schema.description ? { description: schema.description } : {}), ...(example === undefined ? {} : { example }) };
  });
  if (parameters.length > 0) out.parameters = parameters;

  if (out.requestBody) {
    const content = (out.requestBody.content ?? {}) as Json;
    const schema = cleanSchema(content['application/json']?.schema ?? Object.values(content)[0]?.schema) as Json | undefined;
    const example = exampleOf(schema);
    out.requestBody = {
      ...(schema?.description ? { description: schema.description } : {}),
      required: !facts?.optionalBody,
      content: { 'application/json': { schema: schema ?? {}, ...(example === undefined ? {} : { example }) } },
    };
  }

  const notes = facts?.notes ?? {};
  const responses: Json = {};
  for (const [status, response] of Object.entries((out.responses ?? {}) as Json)) {
    const schema = cleanSchema(response.content?.['application/json']?.schema) as Json | undefined;
    const error = Number(status) >= 400 || isErrorSchema(schema);
    const description = notes[status]?.description ?? (error ? undefined : schema?.description) ?? GENERIC[status] ?? `Status ${status}`;
    if (error) responses[status] = { description, content: { 'application/json': { schema: ERROR_REF } } };
    else if (schema) responses[status] = { description, content: { 'application/json': { schema } } };
    else responses[status] = { description, ...(response.content ? { content: response.content } : {}) };
  }
  // A status a route notes without a response schema (a stream, a relay): documented with the note.
  for (const [status, note] of Object.entries(notes)) {
    if (responses[status]) continue;
    responses[status] = Number(status) >= 400 ? { description: note.description, content: { 'application/json': { schema: ERROR_REF } } } : { description: note.description };
  }

  const add = (status: number, description: string) => {
    if (!responses[status]) responses[status] = { description, content: { 'application/json': { schema: ERROR_REF } } };
  };
  const hasParams = parameters.length > 0;
  const hasBody = !!out.requestBody;
  const mutating = MUTATING.has(method);
  // The frame reads any body a changing request carries, even to an operation that takes none.
  if (hasBody || mutating) {
    const none = hasBody ? '' : ' (this operation takes no body; send none)';
    add(400, FRAME[400] + none);
    add(413, FRAME[413] + none);
    add(415, FRAME[415] + none);
  }
  if (hasBody || hasParams || mutating) {
    // A route's own 422 (a rule its schema cannot say) comes on top of the frame's validation.
    if (responses[422] && !String(responses[422].description).includes('VALIDATION')) responses[422] = { ...responses[422], description: `${responses[422].description}; or ${FRAME[422]}` };
    add(422, FRAME[422]);
  }
  if (parameters.some((p) => p.in === 'path')) add(404, FRAME[404]);
  if (mutating) add(403, FRAME[403]);
  add(421, FRAME[421]);
  add(500, FRAME[500]);
  // The frame never fails /health on purpose (the supervisor must see the truth).
  if (options.chaos && path !== '/health') {
    if (responses[503]) responses[503] = { ...responses[503], description: `${responses[503].description}; or ${FRAME[503]}` };
    else add(503, FRAME[503]);
  }
  if (options.admission && mutating) {
    add(429, OVERLOADED_ANSWER);
    if (responses[503]) responses[503] = { ...responses[503], description: `${responses[503].description}; or ${BACKLOG_UNREADABLE_ANSWER}` };
    else add(503, BACKLOG_UNREADABLE_ANSWER);
  }
  // A 429 always says when to come back, and so does a 503 whose note names Retry-After.
  for (const [status, response] of Object.entries(responses)) {
    if (status === '429' || (status === '503' && String(response.description).includes('Retry-After'))) responses[status] = { ...response, headers: RETRY_AFTER_HEADER };
  }
  if (options.bearer) {
    if (mutating || (options.bearer.everyRequest && path !== '/health')) {
      out.security = [{ bearer: [] }];
      add(401, 'UNAUTHORIZED: no `Authorization: Bearer <token>` header, or not this server’s token (checked before anything else)');
    } else out.security = [];
  }
  if (options.service) {
    // Document paths name parameters `{sku}`; the guard sees real paths, so a sample stands in for each.
    if (path !== '/health' && !options.service.isPublic(path.replace(/\{[^}]+\}/g, 'x'), method.toUpperCase())) {
      out.security = [{ service: [] }];
      add(401, 'UNAUTHORIZED: this process is exposed and the request carries no `Authorization: Bearer <service credential>`, or another one (checked before anything else)');
    } else out.security ??= [];
  }
  out.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  return out;
}

/**
 * The finished document for a raw one (the generator's) and the facts the generator dropped.
 *
 * @example
 * const doc = completeDocument(raw, facts, { title: 'order API', version: '0.1.0', description: '…' }, 'http://127.0.0.1:3001');
 */
export function completeDocument(raw: Json, facts: Map<string, RouteFacts>, options: DocumentOptions, serverUrl: string): Json {
  const paths: Json = {};
  for (const [path, operations] of Object.entries((raw.paths ?? {}) as Json)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(operations as Json)) paths[path][method] = finishOperation(method, path, op, facts.get(`${method} ${path}`), options);
  }
  const schemas = Object.fromEntries(Object.entries((raw.components?.schemas ?? {}) as Json).map(([name, s]) => [name, cleanSchema(s)]));
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, description: options.description },
    servers: [{ url: serverUrl, description: 'This process (where this document was served from)' }],
    ...(options.bearer || options.service ? {} : { security: [] }),
    tags: options.tags ?? [],
    paths,
    components: {
      schemas: { ...schemas, Error: ERROR_SCHEMA },
      ...(options.bearer || options.service ? { securitySchemes: securitySchemes(options) } : {}),
    },
  };
}

/** The schemes an Authorize dialog offers: the control token, and the service credential of an exposed process. */
function securitySchemes(options: DocumentOptions): Json {
  return {
    ...(options.bearer ? { bearer: { type: 'http', scheme: 'bearer', description: options.bearer.description } } : {}),
    ...(options.service
      ? { service: { type: 'http', scheme: 'bearer', description: 'The system’s service credential (`MAILROOM_SERVICE_TOKEN`, or the data directory’s `service-token` file): every process sends it to every other; an exposed process wants it on each request but `/health`, `/swagger` and its public operations' } }
      : {}),
  };
}

/**
 * The document of `app` for a request to it, generated once per set of routes; `servers` names the origin the
 * request reached.
 *
 * @example
 * app.get('/swagger/json', ({ request }) => documents.for(request));
 */
export function openApiDocuments(app: AnyElysia, options: DocumentOptions) {
  let cached: { routes: number; raw: Json; facts: Map<string, RouteFacts> } | undefined;
  return {
    for(request: Request): Json {
      const count = routesOf(app).length;
      if (!cached || cached.routes !== count) cached = { routes: count, ...rawDocument(app) };
      const url = new URL(request.url);
      const host = request.headers.get('host') ?? url.host;
      return completeDocument(cached.raw, cached.facts, options, `${url.protocol}//${host}`);
    },
  };
}
