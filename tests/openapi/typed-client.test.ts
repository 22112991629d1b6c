/**
 * A client generated from each document type-checks a call of every operation: `openapi-typescript` turns each
 * process's document into types (at test time, into a scratch directory), `openapi-fetch` makes them a client, and
 * a generated file calls every operation with the document's own examples — plus, for each operation with a required
 * body or path parameter, a call that leaves it out or gets it wrong under `@ts-expect-error`, so types that accept
 * anything fail the check too. The whole directory must pass `tsc` (strict).
 */
import { afterAll, beforeAll, describe, expect, it, mock } from 'bun:test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_NAMES, startInProcessShop, type AppName, type InProcessShop } from '../fuzz/in-process-shop.ts';
import { documentsOf, operationsOf, type Json, type Operation } from './documents.ts';

// openapi-typescript builds its output with the TypeScript compiler API; the repo's `typescript` is 7 (Go-native, no
// JS API), so it gets TypeScript 6 (the `typescript6` alias svelte-check uses too), for this test process only.
mock.module('typescript', () => {
  const ts = require('typescript6');
  return { ...ts, default: ts };
});
const { default: openapiTS, astToString } = await import('openapi-typescript');

const ROOT = join(import.meta.dir, '../..');
// Inside the repository's node_modules, so the generated code finds openapi-fetch as any module would.
const dir = join(ROOT, 'node_modules', '.cache', `mailroom-openapi-client-${process.pid}`);
let shop: InProcessShop;
let docs: Record<AppName, Json>;

beforeAll(async () => {
  shop = await startInProcessShop();
  docs = await documentsOf(shop);
  mkdirSync(dir, { recursive: true });
});
afterAll(async () => {
  await shop?.close();
  rmSync(dir, { recursive: true, force: true });
});

const METHOD: Record<string, string> = { get: 'GET', put: 'PUT', post: 'POST', delete: 'DELETE', patch: 'PATCH' };

/** The `params` of a call: each parameter from its example (optional ones only when they have one; an enum's first value). */
function paramsOf(op: Json): Record<string, Record<string, unknown>> {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of (op.parameters ?? []) as Json[]) {
    const value = p.example ?? p.schema?.examples?.[0] ?? p.schema?.default ?? (p.required ? p.schema?.enum?.[0] : undefined);
    if (value === undefined) continue;
    (params[p.in] ??= {})[p.name] = value;
  }
  return params;
}

/** One call of an operation with its examples, and the calls that must not type-check. */
function callsOf({ method, path, op }: Operation, i: number): string {
  const params = paramsOf(op);
  const media = op.requestBody?.content?.['application/json'];
  const init: Json = {};
  if (Object.keys(params).length > 0) init.params = params;
  if (media?.example !== undefined) init.body = media.example;
  const call = (initText: string) => `client.${METHOD[method]}(${JSON.stringify(path)}${initText ? `, ${initText}` : ''})`;
  const lines = [`  const r${i} = await ${call(Object.keys(init).length ? JSON.stringify(init) : '')};`, `  void r${i}.data;`];
  if (op.requestBody?.required) {
    lines.push('  // @ts-expect-error a body of the wrong shape', `  ${call(JSON.stringify({ ...init, body: { notAField: 1 } }))};`);
  }
  if (((op.parameters ?? []) as Json[]).some((p) => p.in === 'path')) {
    const { path: _path, ...rest } = params;
    lines.push('  // @ts-expect-error the path parameters left out', `  ${call(JSON.stringify({ ...init, params: rest }))};`);
  }
  return lines.join('\n');
}

describe('a client generated from each document', () => {
  it('should type-check one call of every operation of every process, and refuse wrong ones', async () => {
    const counts: string[] = [];
    for (const name of APP_NAMES) {
      const types = astToString(await openapiTS(docs[name] as Parameters<typeof openapiTS>[0]));
      writeFileSync(join(dir, `${name}.ts`), types);
      const operations = operationsOf(docs[name]);
      writeFileSync(
        join(dir, `${name}-calls.ts`),
        [
          `import createClient from 'openapi-fetch';`,
          `import type { paths } from './${name}.ts';`,
          '',
          `const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:${shop.ports[name]}' });`,
          '',
          'export async function callEveryOperation() {',
          ...operations.map(callsOf),
          '}',
          '',
        ].join('\n'),
      );
      counts.push(`${name} ${operations.length}`);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', allowImportingTsExtensions: true, skipLibCheck: true, types: [] },
        include: ['*.ts'],
      }),
    );
    const tsc = Bun.spawn([join(ROOT, 'node_modules/.bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
    const [out, err, code] = await Promise.all([new Response(tsc.stdout).text(), new Response(tsc.stderr).text(), tsc.exited]);
    console.log(`typed calls: ${counts.join(', ')}`);
    expect(`${out}${err}`.trim()).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});
