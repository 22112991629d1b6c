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
// A peer answers a saga's request only once the saga has settled, so thousands may be in flight at once: lift fetch's
// default cap of 256 concurrent requests, which would otherwise queue them in this process and count as its latency.
const env = process.argv.includes('--vs') ? { BUN_CONFIG_MAX_HTTP_REQUESTS: '65336', ...process.env } : process.env;
const proc = Bun.spawn(['bun', join(dir, `${name}.ts`), ...process.argv.slice(3)], { stdio: ['inherit', 'inherit', 'inherit'], env });
process.exit(await proc.exited);
