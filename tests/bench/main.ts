/**
 * `bun run bench <name> [--json] [...]`: runs tests/bench/<name>.ts. Each benchmark prints a table of medians
 * and ratios and, with `--json`, a last line of JSON.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dir;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(
    name ? `unknown benchmark "${name}"; available: ${available.join(', ')}` : `usage: bun run bench <name> [--json]; available: ${available.join(', ')}`,
  );
  process.exit(2);
}
const proc = Bun.spawn(['bun', join(dir, `${name}.ts`), ...process.argv.slice(3)], { stdio: ['inherit', 'inherit', 'inherit'] });
process.exit(await proc.exited);
