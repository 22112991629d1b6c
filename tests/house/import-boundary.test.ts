/**
 * The runtime's boundary, held by a test. Code outside `runtime/` — `services/`, `sagas/` and the panel's
 * `panel/src` — reaches the runtime only through its entry points (`ENTRY_POINTS` below, each opening with what it is
 * for), so what a service may lean on is a short, hand-picked list and everything else can move freely. And the core
 * (the node, actors, sagas and whatever they import) imports nothing from the sides built on it: `runtime/ops`,
 * `runtime/http`, `runtime/supervisor`.
 *
 * `tests/` are not held to the entry points: a unit test of an internal (the lease manager, a Lua script's return
 * codes, the key names) imports that internal directly, which is the point of it. Tests of behaviour a user relies on
 * import the entry points like any service does.
 */
import { describe, expect, it } from 'bun:test';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Glob } from 'bun';
import ts from 'typescript6';

const ROOT = resolve(import.meta.dir, '../..');

/** The runtime files code outside `runtime/` may import. */
const ENTRY_POINTS = new Set([
  'runtime/index.ts',
  'runtime/config.ts',
  'runtime/http/index.ts',
  'runtime/resilience/index.ts',
  'runtime/ops/index.ts',
  'runtime/supervisor/index.ts',
  'runtime/redis/index.ts',
  'runtime/observe/index.ts',
  'runtime/discovery/index.ts',
]);

/** Folders whose files must keep to the entry points. */
const HELD = ['services', 'sagas', 'panel/src'];

/** The core's own folders, and the entry point that lists it. */
const CORE_ROOTS = ['runtime/index.ts', 'runtime/node', 'runtime/actor', 'runtime/saga'];

/** The sides built on the core; nothing the core reaches may live here. */
const NOT_CORE = ['runtime/ops/', 'runtime/http/', 'runtime/supervisor/'];

type Import = { spec: string; line: number };

/**
 * Every module a source file names (static and type-only imports, `export … from`, dynamic `import()`), with its
 * line, found by TypeScript's own pre-parser so comments and strings never count. A `.svelte` file's `<script>`
 * blocks are read in place.
 */
function importsOf(file: string, text: string): Import[] {
  const blocks: { code: string; offset: number }[] = [];
  if (file.endsWith('.svelte')) {
    for (const m of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) blocks.push({ code: m[1]!, offset: m.index! + m[0].indexOf('>') + 1 });
  } else {
    blocks.push({ code: text, offset: 0 });
  }
  const out: Import[] = [];
  for (const { code, offset } of blocks) {
    for (const ref of ts.preProcessFile(code, true, true).importedFiles) {
      out.push({ spec: ref.fileName, line: text.slice(0, offset + ref.pos).split('\n').length });
    }
  }
  return out;
}

/** The repository path a relative specifier of `file` names, or null for a package. */
function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(ROOT, resolve(ROOT, dirname(file), spec));
}

/** `file:line imports x` for each import of a runtime file that is not an entry point. */
function boundaryViolations(file: string, text: string): string[] {
  return importsOf(file, text).flatMap(({ spec, line }) => {
    const path = target(file, spec);
    if (path === null || !path.startsWith('runtime/') || ENTRY_POINTS.has(path)) return [];
    return [`${file}:${line} imports ${path} (not an entry point: use ${[...ENTRY_POINTS].join(', ')})`];
  });
}

function sources(folder: string): string[] {
  return [...new Glob('**/*.{ts,svelte}').scanSync({ cwd: join(ROOT, folder) })].map((f) => `${folder}/${f}`).filter((f) => !f.includes('node_modules'));
}

/** Every runtime file the core reaches, each with the chain of imports that reached it. */
function coreReach(): Map<string, string[]> {
  const roots = CORE_ROOTS.flatMap((r) => (r.endsWith('.ts') ? [r] : sources(r).filter((f) => f.endsWith('.ts'))));
  const reached = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const queue = [...roots];
  while (queue.length) {
    const file = queue.shift()!;
    for (const { spec } of importsOf(file, readFileSync(join(ROOT, file), 'utf8'))) {
      const path = target(file, spec);
      if (path === null || !path.endsWith('.ts') || reached.has(path)) continue;
      reached.set(path, [...reached.get(file)!, path]);
      queue.push(path);
    }
  }
  return reached;
}

describe('the import boundary', () => {
  it('should name only entry points that exist, each opening with what it is for', () => {
    for (const entry of ENTRY_POINTS) {
      expect(existsSync(join(ROOT, entry))).toBe(true);
      expect(readFileSync(join(ROOT, entry), 'utf8').trimStart().startsWith('/**')).toBe(true);
    }
  });

  it('should catch a deep import wherever it sits, and let an entry point, a package or a comment pass', () => {
    const sample = [
      "import { createNode } from '../../runtime/index.ts';",
      "import { Elysia } from 'elysia';",
      '// import { x } from "../../runtime/keys.ts";',
      'import type {',
      '  ClusterView,',
      "} from '../../runtime/ops/cluster-view.ts';",
      "export { HttpError } from '../../runtime/http-error.ts';",
      "const m = await import('../../runtime/node/node.ts');",
    ].join('\n');
    expect(boundaryViolations('services/shop/x.ts', sample).map((v) => v.split(' (')[0])).toEqual([
      'services/shop/x.ts:6 imports runtime/ops/cluster-view.ts',
      'services/shop/x.ts:7 imports runtime/http-error.ts',
      'services/shop/x.ts:8 imports runtime/node/node.ts',
    ]);
    const svelte = "<script lang=\"ts\">\n  import { a } from '../../../runtime/inspection.ts';\n</script>\n<p>{a}</p>";
    expect(boundaryViolations('panel/src/views/X.svelte', svelte).map((v) => v.split(' (')[0])).toEqual(['panel/src/views/X.svelte:2 imports runtime/inspection.ts']);
  });

  it('should find services, sagas and the panel importing the runtime through its entry points only', () => {
    const files = HELD.flatMap(sources);
    let runtimeImports = 0;
    const violations: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      runtimeImports += importsOf(file, text).filter(({ spec }) => target(file, spec)?.startsWith('runtime/')).length;
      violations.push(...boundaryViolations(file, text));
    }
    // The scan saw the code it guards: an empty glob would pass vacuously.
    expect(files.length).toBeGreaterThan(100);
    expect(runtimeImports).toBeGreaterThan(100);
    expect(violations).toEqual([]);
  });

  it('should keep the core (node, actors, sagas and what they import) free of ops, http and supervisor', () => {
    const reached = coreReach();
    expect(reached.has('runtime/node/node.ts')).toBe(true);
    expect(reached.has('runtime/redis/link.ts')).toBe(true);
    const leaks = [...reached].filter(([path]) => NOT_CORE.some((side) => path.startsWith(side))).map(([, chain]) => chain.join(' → '));
    expect(leaks).toEqual([]);
  });
});
