/**
 * The quick chaos run as part of `bun run test`: `bun tests/chaos/run.ts --quick --json` in a child process (its own
 * Redis, ports and processes, ~60 s of kills, a pause, a Redis restart and chaos rules, then the checks). It passes
 * only if the run exits 0 and its JSON line reports no violation; on failure the run's report, seed included, is
 * in the assertion message. `CHAOS_SEED=<n>` replays one seed.
 */
import { describe, expect, it } from 'bun:test';
import { join } from 'node:path';

describe('chaos run (--quick)', () => {
  it(
    'should end with every saga settled, money and stock balanced, no message pending and no violation',
    async () => {
      const args = ['bun', join(import.meta.dir, 'run.ts'), '--quick', '--json'];
      if (process.env.CHAOS_SEED) args.push('--seed', process.env.CHAOS_SEED);
      const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env } });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const report = `${out}\n${err}`.trim();
      const last = out.trim().split('\n').at(-1) ?? '';
      let summary: { name?: string; violations?: number; orders?: number; kills?: number } = {};
      try {
        summary = JSON.parse(last);
      } catch {}
      expect({ code, summary: { name: summary.name, violations: summary.violations } }, report).toEqual({ code: 0, summary: { name: 'chaos', violations: 0 } });
      expect(summary.orders ?? 0, report).toBeGreaterThan(50);
      expect(summary.kills ?? 0, report).toBeGreaterThanOrEqual(5);
    },
    150_000,
  );
});
