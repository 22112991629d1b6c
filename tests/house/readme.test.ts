/**
 * The README holds to the code, so it cannot drift: its ports table and diagram name every process with its default
 * port and the variable that overrides it; its environment table names every variable the code reads (and only
 * those); it fits a screen; and every relative link, repository path and `bun run` script named in it and in `docs/`
 * exists.
 */
import { describe, expect, it } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Glob } from 'bun';
import { DEFAULT_PORTS, portOf, type ProcessName } from '../../services/config.ts';
import { mailroomProcesses } from '../../services/processes.ts';
import { DEFAULT_PROMETHEUS_PORT, prometheusPortOf } from '../../runtime/observe/prometheus-config.ts';
import { codeFiles, envReads, envReadsIn, inFamily, setsEnv, withoutComments } from './env-reads.ts';
import { codeSpans, headingAnchors, linkTargets, tableUnder, withoutCode } from './markdown.ts';
import { mimallocOption, mimallocOptions } from '../helpers/mimalloc.ts';

const root = join(import.meta.dir, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const readme = read('README.md');
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Every process with a port: the shop's (services/config.ts) and the Prometheus `--observe` starts. */
const expectedPorts: Record<string, number> = { ...DEFAULT_PORTS, prometheus: DEFAULT_PROMETHEUS_PORT };
const portOfName = (name: string, env: Record<string, string>) =>
  name === 'prometheus' ? prometheusPortOf(env) : portOf(name as ProcessName | 'redis', env);

/**
 * Variables Mailroom's own code sets for a child it starts, never a person: the README leaves them out. Each must
 * still be set somewhere, or it is a leftover.
 */
const SET_FOR_CHILDREN: Record<string, string> = {
  MAILROOM_SUPERVISOR_PID: 'the supervisor tells each child its pid (a child exits when its supervisor is gone)',
  MAILROOM_CONTROL_TOKEN: 'the supervisor hands the control plane its bearer token (kept in <data dir>/control-token)',
};

/** Variables a dependency reads for Mailroom (the README lists them): where in node_modules the reading is. */
const READ_BY_DEPENDENCIES: Record<string, string> = {
  OTEL_EXPORTER_OTLP_HEADERS: 'node_modules/@opentelemetry/otlp-exporter-base',
  OTEL_EXPORTER_OTLP_TIMEOUT: 'node_modules/@opentelemetry/otlp-exporter-base',
};

/**
 * Variables Bun itself reads as a process starts (the README lists them): mimalloc's options, which the supervisor sets
 * for its children unless the environment does (runtime/process/allocator.ts). Checked by starting Bun with one and
 * reading mimalloc's own report of its options.
 */
const READ_BY_BUN: readonly string[] = ['MIMALLOC_PURGE_HOLES'];

function bunReads(name: string): boolean {
  return READ_BY_BUN.includes(name) && mimallocOptions({ ...process.env, [name]: '7' })[mimallocOption(name)] === '7';
}

// All the code a user runs or tests with. Left out: tests/house, which only names variables, and the children that
// tests and benchmarks spawn (a runtime node, Restate's endpoint), whose variables are parameters their spawner sets,
// listed in their own headers.
const code = codeFiles(root, ['runtime', 'services', 'sagas', 'panel', 'tests'], ['tests/house/', 'tests/fixtures/', 'tests/bench/restate/']);
const reads = envReads(code);

/** The names in the first cell of the environment table, families with `*` for `<NAME>`. */
function documentedVariables(markdown: string): string[] {
  return tableUnder(markdown, '## Environment variables').flatMap(([first]) =>
    codeSpans(first ?? '').map((span) => span.replace(/=.*$/, '').replace(/<[A-Z]+>/g, '*')),
  );
}

function dependencyReads(name: string): boolean {
  const dir = READ_BY_DEPENDENCIES[name];
  if (!dir) return false;
  for (const path of new Glob('**/*.{js,mjs,cjs}').scanSync({ cwd: join(root, dir) })) {
    if (readFileSync(join(root, dir, path), 'utf8').includes(name)) return true;
  }
  return false;
}

describe('the environment-variable scanner', () => {
  it('should find reads, families and helper reads, and skip writes and comments', () => {
    const source = [
      '/** `process.env.IN_A_COMMENT` */',
      'const a = process.env.PLAIN ?? env.VIA_ENV;',
      "const b = env['QUOTED'] || process.env[`FAMILY_${x}_MS`];",
      "const c = intFromEnv(env, 'HELPER');",
      "process.env.WRITTEN = '1'; delete env.DELETED; // env.TRAILING",
      "if (env.COMPARED === 'x') {}",
    ].join('\n');
    expect(envReadsIn(source)).toEqual(['COMPARED', 'FAMILY_*_MS', 'HELPER', 'PLAIN', 'QUOTED', 'VIA_ENV']);
    expect(withoutComments('a(); // why\n * doc\nb();')).toBe('a();\nb();');
    expect(inFamily('MAILROOM_PORT_ORDER', 'MAILROOM_PORT_*')).toBe(true);
    expect(inFamily('MAILROOM_PORTS', 'MAILROOM_PORT_*')).toBe(false);
    expect(setsEnv("spawn(f, { env: { SERVICE: 'svc' } })", 'SERVICE')).toBe(true);
  });
});

describe('README.md', () => {
  it('should fit in 200 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
  });

  it('should list every process with its default port and override variable, and no other', () => {
    const rows = tableUnder(readme, '## Ports').map(([process, , port, override]) => ({
      process: (process ?? '').replaceAll('`', ''),
      port: Number((port ?? '').replaceAll(',', '')),
      override: (override ?? '').replaceAll('`', ''),
    }));
    const expected = Object.entries(expectedPorts).map(([process, port]) => ({ process, port, override: `MAILROOM_PORT_${process.toUpperCase()}` }));
    const byName = (a: { process: string }, b: { process: string }) => a.process.localeCompare(b.process);
    expect(rows.toSorted(byName)).toEqual(expected.toSorted(byName));
    // The override column names the variable the code reads: setting it moves the port.
    for (const row of rows) expect({ process: row.process, port: portOfName(row.process, { [row.override]: '4321' }) }).toEqual({ process: row.process, port: 4321 });
    // Every process the supervisor starts (the panel included, in dev) is in the table.
    for (const spec of mailroomProcesses({ dev: true, bun: 'bun', env: {} })) expect(rows.map((r) => r.process)).toContain(spec.name);
  });

  it('should draw the diagram with the default ports', () => {
    const diagram = readme.match(/```\n([\s\S]*?)```/)?.[1] ?? '';
    const drawn = Object.fromEntries([...diagram.matchAll(/([a-z][a-z-]*) :(\d+)/g)].map((m) => [m[1] === 'redis-server' ? 'redis' : m[1]!, Number(m[2])]));
    expect(drawn).toEqual(DEFAULT_PORTS);
  });

  it('should list every environment variable the code reads', () => {
    const documented = documentedVariables(readme);
    const undocumented = [...reads.keys()].filter((name) => !(name in SET_FOR_CHILDREN) && !documented.some((d) => inFamily(name, d)));
    expect(undocumented.map((name) => `${name} (read in ${reads.get(name)!.join(', ')})`)).toEqual([]);
  });

  it('should list only variables something reads', () => {
    const documented = documentedVariables(readme);
    expect(documented.length).toBeGreaterThan(0);
    const unread = documented.filter((d) => ![...reads.keys()].some((name) => inFamily(name, d)) && !dependencyReads(d) && !bunReads(d));
    expect(unread).toEqual([]);
    // The dependencies' and Bun's variables are user settings: listed, not hidden.
    expect([...Object.keys(READ_BY_DEPENDENCIES), ...READ_BY_BUN].filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('should leave out only variables the code sets for its children', () => {
    const documented = documentedVariables(readme);
    for (const [name, why] of Object.entries(SET_FOR_CHILDREN)) {
      const setters = [...code].filter(([, source]) => setsEnv(source, name)).map(([path]) => path);
      expect({ name, why, set: setters.length > 0, documented: documented.includes(name) }).toEqual({ name, why, set: true, documented: false });
    }
  });

  it('should name, as its test command, the one .ci/run runs', () => {
    expect(readme).toContain('```sh\nbun run test\n```');
    // A line of .ci/run runs that command (perhaps under `timeout`), not only `bun run test:e2e`.
    const runsTests = /^\s*(?:timeout \d+ )?bun run test(?![\w:])/m.test(read('.ci/run'));
    expect(runsTests, '.ci/run has no line running `bun run test`').toBe(true);
  });
});

describe('README.md and docs/', () => {
  it('should link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const document of documents) {
      for (const target of linkTargets(read(document))) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? document : relative(root, join(root, dirname(document), path));
        if (!existsSync(join(root, file))) broken.push(`${document}: ${target} (no ${file})`);
        else if (anchor && file.endsWith('.md') && !headingAnchors(read(file)).includes(anchor)) broken.push(`${document}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('should name only repository paths that exist', () => {
    // Built or written by a run, not kept in git.
    const generated = ['panel/dist', 'tests/e2e/artifacts/'];
    const missing: string[] = [];
    for (const document of documents) {
      for (const span of codeSpans(withoutCode(read(document)))) {
        if (!/^(runtime|services|sagas|panel|tests|docs|\.ci)\/[\w./*{},-]*$/.test(span) || generated.includes(span)) continue;
        const found = span.includes('*') ? new Glob(span).scanSync({ cwd: root, onlyFiles: false }).next().done === false : existsSync(join(root, span));
        if (!found) missing.push(`${document}: ${span}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('should name only bun run scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = new Set(documents.flatMap((document) => [...read(document).matchAll(/\bbun run ([a-z][a-z0-9:-]*)/g)].map((m) => m[1]!)));
    expect([...named].filter((script) => !scripts.includes(script))).toEqual([]);
  });
});
