/**
 * The contract test, driven by the documents themselves: every operation of every process is called in-process
 * (`app.handle`) with a request built from its document — once with the request body's example and once with a
 * body built from the schema alone (required fields, each from its example, default, enum or bounds) — and every
 * answer must have a status the document lists, and a body valid against the schema documented for that status
 * (ajv, JSON Schema 2020-12). Every example must itself be valid against its schema. Reads go first, then writes,
 * removals last, as a client would; the shop is the barrage's, on real nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { APP_NAMES, startInProcessShop, type AppName, type InProcessShop } from '../fuzz/in-process-shop.ts';
import { documentsOf, operationsOf, type Json, type Operation } from './documents.ts';

let shop: InProcessShop;
let docs: Record<AppName, Json>;

beforeAll(async () => {
  shop = await startInProcessShop();
  docs = await documentsOf(shop);
});
afterAll(async () => {
  await shop?.close();
});

/** A validator per document: its components are reachable by `$ref`, formats are checked where ajv knows them. */
function validatorFor(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  const fix = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
  return (schema: Json, value: unknown): string[] => {
    const validate = ajv.compile(fix(schema) as Json);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
  };
}

/**
 * A value for a schema from what the schema says: its example, default, const, first enum value; an object of its
 * required properties; an array of one item; a number at its lower bound. A string with a pattern and no example
 * cannot be made up: it is reported, so every such field gets an example.
 */
function sampleOf(schema: Json, where: string, missing: string[]): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return sampleOf(schema.anyOf[0], where, missing);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Json = {};
      for (const name of (schema.required ?? []) as string[]) out[name] = sampleOf(schema.properties?.[name] ?? {}, `${where}.${name}`, missing);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => sampleOf(schema.items ?? {}, `${where}[]`, missing));
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'email') return 'ada@example.com';
      if (schema.pattern) {
        missing.push(where);
        return 'x';
      }
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return {};
  }
}

type Built = { request: Request; described: string };

/** The request for an operation: parameters from their examples (optional ones only when they have one), and `body`. */
function requestFor(app: AppName, { method, path, op }: Operation, body: unknown, missing: string[]): Built {
  const host = `127.0.0.1:${shop.ports[app]}`;
  let url = path;
  const query = new URLSearchParams();
  const headers = new Headers({ host });
  for (const p of (op.parameters ?? []) as Json[]) {
    const given = p.example ?? p.schema?.examples?.[0] ?? p.schema?.default;
    if (given === undefined && !p.required) continue;
    const value = String(given ?? sampleOf(p.schema ?? {}, `${p.in} ${p.name}`, missing));
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(value));
    else if (p.in === 'query') query.set(p.name, value);
    else if (p.in === 'header') headers.set(p.name, value);
  }
  if (op.security?.some((s: Json) => 'bearer' in s)) headers.set('authorization', `Bearer ${shop.control.token}`);
  if (body !== undefined) headers.set('content-type', 'application/json');
  const full = `http://${host}${url}${query.size ? `?${query}` : ''}`;
  return { request: new Request(full, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) }), described: `${method.toUpperCase()} ${url}${query.size ? `?${query}` : ''}` };
}

/** The answer held to the document: a listed status, and a body valid against that status's schema. */
async function check(validate: ReturnType<typeof validatorFor>, op: Json, response: Response, described: string): Promise<{ status: number; problems: string[] }> {
  const status = response.status;
  const documented = op.responses?.[String(status)];
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status, problems: documented ? [] : [`${described} → ${status}, not in the document`] };
  }
  const text = await response.text();
  if (!documented) return { status, problems: [`${described} → ${status}, not in the document: ${text.slice(0, 300)}`] };
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) return { status, problems: [] };
  if (!type.includes('application/json')) return { status, problems: [`${described} → ${status} as ${type}, documented as JSON`] };
  const errors = validate(schema, JSON.parse(text));
  return { status, problems: errors.map((e) => `${described} → ${status}: body ${e} (${text.slice(0, 200)})`) };
}

/** Reads first, then writes, removals last (so what a write makes is there to read, and removed only at the end). */
const RANK = ['get', 'put', 'post', 'patch', 'delete'];
/** What to undo after an operation so the next ones meet the shop as it was (faults would fail its charges). */
const undo: Partial<Record<string, () => Promise<unknown>>> = {
  'provider put /faults': () => shop.faults.clear(),
  'control post /control/load': async () => shop.control.context.load.stop(),
};

const coverage: { app: AppName; operations: number; cases: number; statuses: Record<string, number> }[] = [];

describe('contract: every operation answers as its document says', () => {
  for (const app of APP_NAMES) {
    it(`should answer every ${app} operation, called with its examples and with a body built from its schema, with a documented status and body`, async () => {
      const doc = docs[app];
      const validate = validatorFor(doc);
      const problems: string[] = [];
      const statuses: Record<string, number> = {};
      let cases = 0;
      const operations = operationsOf(doc).toSorted((a, b) => RANK.indexOf(a.method) - RANK.indexOf(b.method));
      for (const operation of operations) {
        const { method, path, op } = operation;
        const missing: string[] = [];
        const media = op.requestBody?.content?.['application/json'];
        const bodies: unknown[] = [];
        if (media) {
          if (media.example === undefined) problems.push(`${method.toUpperCase()} ${path}: the request body has no example`);
          else {
            for (const e of validate(media.schema, media.example)) problems.push(`${method.toUpperCase()} ${path}: its example is invalid: ${e}`);
            bodies.push(media.example);
          }
          const built = sampleOf({ ...media.schema, examples: undefined, example: undefined }, 'body', missing);
          for (const e of validate(media.schema, built)) problems.push(`${method.toUpperCase()} ${path}: the body built from its schema is invalid: ${e}`);
          bodies.push(built);
        } else bodies.push(undefined);
        for (const body of bodies) {
          const { request, described } = requestFor(app, operation, body, missing);
          const result = await check(validate, op, await shop.apps[app].handle(request), described);
          problems.push(...result.problems);
          statuses[result.status] = (statuses[result.status] ?? 0) + 1;
          cases++;
          await undo[`${app} ${method} ${path}`]?.();
        }
        for (const where of new Set(missing)) problems.push(`${method.toUpperCase()} ${path}: ${where} has a pattern and no example`);
      }
      coverage.push({ app, operations: operations.length, cases, statuses });
      console.log(`${app}: ${operations.length} operations × ${cases} cases, statuses ${JSON.stringify(statuses)}`);
      expect(problems).toEqual([]);
      // Most operations reach their handler and succeed: the examples name things the shop has.
      const ok = Object.entries(statuses).filter(([s]) => Number(s) < 300).reduce((n, [, c]) => n + c, 0);
      expect(ok).toBeGreaterThanOrEqual(Math.ceil(cases / 2));
    }, 60_000);
  }

  it('should document every operation with a 2xx, an operationId, tags that are declared, and a sentence per status', () => {
    const problems: string[] = [];
    for (const app of APP_NAMES) {
      const doc = docs[app];
      const tags = new Set((doc.tags as Json[]).map((t) => t.name));
      for (const tag of doc.tags as Json[]) if (!tag.description) problems.push(`${app}: tag ${tag.name} has no description`);
      for (const { method, path, op } of operationsOf(doc)) {
        const where = `${app} ${method.toUpperCase()} ${path}`;
        if (!Object.keys(op.responses ?? {}).some((s) => s.startsWith('2'))) problems.push(`${where}: no 2xx`);
        for (const tag of op.tags ?? []) if (!tags.has(tag)) problems.push(`${where}: tag ${tag} is not declared`);
        for (const [status, response] of Object.entries(op.responses as Json)) {
          if (/^(Response for status|Status \d|OK$|Created$)/.test((response as Json).description)) problems.push(`${where}: ${status} says only "${(response as Json).description}"`);
        }
        if (JSON.stringify(op).includes('"format":"integer"')) problems.push(`${where}: an integer documented as a string`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should leave no unexpected error logged (a 500 would be listed, but is a bug)', () => {
    expect(shop.logged).toEqual([]);
    expect(coverage.length).toBe(APP_NAMES.length);
  });
});
