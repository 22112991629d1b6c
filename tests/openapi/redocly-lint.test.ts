/**
 * Every process's OpenAPI document passes `redocly lint` with the recommended rules and no error (warnings are
 * printed, not failed on). The documents are the ones the processes serve, written to a temporary directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_NAMES, startInProcessShop, type AppName, type InProcessShop } from '../fuzz/in-process-shop.ts';
import { documentsOf, type Json } from './documents.ts';

const REDOCLY = join(import.meta.dir, '../../node_modules/@redocly/cli/bin/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'mailroom-redocly-'));
let shop: InProcessShop;
let docs: Record<AppName, Json>;

beforeAll(async () => {
  shop = await startInProcessShop();
  docs = await documentsOf(shop);
  writeFileSync(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
});
afterAll(async () => {
  await shop?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Problem = { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer: string }[] };

/** `redocly lint` on one document: its totals and problems (JSON output). */
async function lint(name: AppName, doc: Json) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const proc = Bun.spawn(['bun', REDOCLY, 'lint', '--config', join(dir, 'redocly.yaml'), '--format', 'json', file], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const report = JSON.parse(out.slice(out.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Problem[] };
  return report;
}

describe('redocly lint (recommended rules)', () => {
  for (const name of APP_NAMES) {
    it(`should find no error in the ${name} document`, async () => {
      const report = await lint(name, docs[name]);
      const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
      const warnings = report.problems.filter((p) => p.severity === 'warn').map((p) => p.ruleId);
      if (warnings.length > 0) console.log(`${name}: ${warnings.length} warning(s): ${[...new Set(warnings)].join(', ')}`);
      expect(errors).toEqual([]);
      expect(report.totals.errors).toBe(0);
    }, 30_000);
  }

  it('should fail a document that breaks a recommended rule (the check can fail)', async () => {
    const broken = structuredClone(docs.order);
    delete broken.servers;
    for (const ops of Object.values(broken.paths as Json)) for (const op of Object.values(ops as Json)) delete (op as Json).responses;
    const report = await lint('order', broken);
    expect(report.totals.errors).toBeGreaterThan(0);
  }, 30_000);
});
