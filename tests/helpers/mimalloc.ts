/**
 * What Bun's allocator (mimalloc) read from an environment: Bun started with it and `MIMALLOC_VERBOSE=1` reports
 * every option it runs with. Tests use it to prove a `MIMALLOC_*` variable reaches the allocator rather than being
 * ignored without a word.
 */

/** The option a `MIMALLOC_*` variable sets, as mimalloc names it: `MIMALLOC_PURGE_HOLES` → `purge_holes`. */
export const mimallocOption = (variable: string): string => variable.replace(/^MIMALLOC_/, '').toLowerCase();

/**
 * Each option mimalloc reports, by name, for a Bun started with `env`.
 *
 * @example
 * mimallocOptions({ ...process.env, MIMALLOC_PURGE_HOLES: '0' }).purge_holes; // '0'
 */
export function mimallocOptions(env: Record<string, string | undefined>): Record<string, string> {
  const run = Bun.spawnSync([process.execPath, '-e', '0'], { env: { ...env, MIMALLOC_VERBOSE: '1' }, stdout: 'ignore', stderr: 'pipe' });
  if (run.exitCode !== 0) throw new Error(`bun -e 0 exited with ${run.exitCode}: ${run.stderr.toString()}`);
  return Object.fromEntries([...run.stderr.toString().matchAll(/option '([a-z_]+)': (\S+)/g)].map((m) => [m[1]!, m[2]!]));
}
