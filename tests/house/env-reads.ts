/**
 * Which environment variables the repository's own code reads, found in its source: `process.env.X`, `env.X`,
 * `env['X']`, and `…FromEnv(env, 'X')` (how the runtime reads ports). A name built in a template literal
 * (`MAILROOM_PORT_${name}`) is a family, written with `*` for the part filled in (`MAILROOM_PORT_*`). Writes
 * (`env.X = …`, `delete env.X`) and comments are not reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Glob } from 'bun';

/** A name, or a family with `*` where a template fills in a part. */
const NAME = String.raw`[A-Z][A-Z0-9_]*(?:\$\{[^}\n]*\}[A-Z0-9_]*)*`;
const READS = [
  new RegExp(String.raw`(?<!delete\s+)\b(?:process\.env|Bun\.env|env)\.(${NAME})\b(?!\s*=[^=>])`, 'g'),
  new RegExp(String.raw`(?<!delete\s+)\b(?:process\.env|Bun\.env|env)\[\s*(['"\`])(${NAME})\1\s*\](?!\s*=[^=>])`, 'g'),
  new RegExp(String.raw`\b\w*FromEnv\(\s*\w+\s*,\s*(['"\`])(${NAME})\1`, 'g'),
];

/** The source without comments: whole comment lines (JSDoc included) and trailing `// …`. */
export function withoutComments(source: string): string {
  return source
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/(^|\s)\/\/\s.*$/, ''))
    .join('\n');
}

/**
 * The variables one source file reads, families written with `*`.
 *
 * @example
 * envReadsIn("const port = env[`MAILROOM_PORT_${name}`] ?? process.env.PORT;"); // ['MAILROOM_PORT_*', 'PORT']
 */
export function envReadsIn(source: string): string[] {
  const code = withoutComments(source);
  const found = new Set<string>();
  for (const pattern of READS) {
    for (const match of code.matchAll(pattern)) found.add(match.at(-1)!.replace(/\$\{[^}\n]*\}/g, '*'));
  }
  return [...found].sort();
}

/** Whether a source file sets the variable for a child (`NAME: …` in an environment object). */
export function setsEnv(source: string, name: string): boolean {
  return new RegExp(String.raw`\b${name}\s*:`).test(withoutComments(source));
}

/** Every code file under `folders` of `root` (node_modules and built files left out), with its text. */
export function codeFiles(root: string, folders: readonly string[], skip: readonly string[] = []): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of folders) {
    for (const path of new Glob(`${folder}/**/*.{ts,js,mjs,cjs,svelte}`).scanSync({ cwd: root })) {
      if (path.includes('node_modules/') || path.includes('/dist/') || skip.some((s) => path.startsWith(s))) continue;
      files.set(path, readFileSync(join(root, path), 'utf8'));
    }
  }
  return files;
}

/** Variable → the files that read it. */
export function envReads(files: Map<string, string>): Map<string, string[]> {
  const reads = new Map<string, string[]>();
  for (const [path, source] of files) {
    for (const name of envReadsIn(source)) reads.set(name, [...(reads.get(name) ?? []), path]);
  }
  return reads;
}

/** Whether `name` (a name or a family with `*`) is `family` or one of its members. */
export function inFamily(name: string, family: string): boolean {
  if (name === family) return true;
  if (!family.includes('*')) return false;
  const pattern = family.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[A-Z0-9_]+');
  return new RegExp(`^${pattern}$`).test(name);
}
