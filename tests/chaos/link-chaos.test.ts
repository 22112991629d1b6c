/**
 * A few fixed seeds of `bun run chaos --link` in `bun test`: the runtime's nodes on fault-injecting Redis links with
 * leases stolen mid-batch, then healed and checked (tests/chaos/link/). It holds the partition worker to what the
 * README promises under an unreliable connection — a commit whose reply is lost, a fenced worker, a stalled
 * connection. Before the worker's lifecycle was made explicit, every seed failed here (a fenced worker that kept
 * spinning, a commit whose reply was lost never relaying its outbox or launching its effects, a stopping worker
 * aborting its successor's effects). The assertion message lists each violation with its seed: `bun run chaos --link
 * --seed <seed>` replays it.
 */
import { describe, expect, it } from 'bun:test';
import { SHARED_REDIS } from '../helpers/redis.ts';
import { runSchedule } from './link/schedule.ts';

const SEEDS = process.env.CHAOS_LINK_SEEDS ? process.env.CHAOS_LINK_SEEDS.split(',').map(Number) : [1, 2, 3];

describe('chaos --link (partition worker on faulty links)', () => {
  it(
    'should apply every add, tell, ask, timer and effect outcome exactly once and leave nothing in transit after healing',
    async () => {
      const results = [];
      for (const seed of SEEDS) results.push(await runSchedule({ seed, redis: SHARED_REDIS, chaosMs: 3_000, settleMs: 8_000 }));
      const violations = results.flatMap((r) => r.violations);
      const report = violations.map((v) => `seed ${v.seed} [${v.check}] ${v.detail}`).join('\n');
      // The faults must really have happened, or a pass proves nothing.
      const faults = results.reduce((n, r) => n + r.faults.fail + r.faults['drop-reply'] + r.faults.reset, 0);
      expect(faults).toBeGreaterThan(30);
      expect(results.reduce((n, r) => n + r.steals, 0)).toBeGreaterThan(3);
      expect(violations.length, report).toBe(0);
    },
    100_000,
  );
});
