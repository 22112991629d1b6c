/**
 * `bun run bench <name> [--json] [...]`: runs tests/bench/<name>.ts. Each benchmark prints a table of medians
 * and ratios and, with `--json`, a last line of JSON. `--observe off|metrics|trace-1|trace-100` runs it with metrics
 * off, on, or tracing at 1 % / 100 % to a local OTLP sink; `--observe-cost [--cost-rounds N]` (mailbox, saga) runs
 * every mode in turn and prints each one's throughput against metrics off (`_observe-cost.ts`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { withAllocatorDefaults } from '../../runtime/process/allocator.ts';
import { envOf, observeCost, parseMode, startSink } from './_observe-cost.ts';

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
const args = process.argv.slice(3);
// `--observe-cost`: every observability mode in turn (`_observe-cost.ts`); `--observe <mode>`: one of them.
if (args.includes('--observe-cost')) {
  const at = args.indexOf('--cost-rounds');
  const rounds = at >= 0 ? Number(args[at + 1]) : 3;
  const rest = args.filter((a, i) => a !== '--observe-cost' && i !== at && i !== at + 1);
  process.exit(await observeCost(name, rounds > 0 ? rounds : 3, rest));
}
const observeAt = args.indexOf('--observe');
const sink = observeAt >= 0 ? startSink() : undefined;
const observeEnv = observeAt >= 0 ? envOf(parseMode(args[observeAt + 1] ?? ''), sink!.url) : {};
if (observeAt >= 0) args.splice(observeAt, 2);
// A peer answers a saga's request only once the saga has settled, so thousands may be in flight at once: lift fetch's
// default cap of 256 concurrent requests, which would otherwise queue them in this process and count as its latency.
// Every process of a bench (Mailroom's, a peer's on Bun, the load generator) inherits the allocator setting the supervisor
// gives Mailroom's processes (runtime/process/allocator.ts), so no side is measured on a setting the others avoid.
const env = withAllocatorDefaults({ ...(process.argv.includes('--vs') ? { BUN_CONFIG_MAX_HTTP_REQUESTS: '65336' } : {}), ...process.env, ...observeEnv });
const proc = Bun.spawn(['bun', join(dir, `${name}.ts`), ...args], { stdio: ['inherit', 'inherit', 'inherit'], env });
const code = await proc.exited;
sink?.stop();
process.exit(code);
