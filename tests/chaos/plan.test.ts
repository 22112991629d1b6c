/** The fault plan: a function of the seed, and a victim named in `alwaysKill` is killed in every plan. */
import { describe, expect, it } from 'bun:test';
import { planFaults } from './plan.ts';

const input = (seed: number, alwaysKill?: string[]) => ({
  seed,
  chaosMs: 60_000,
  victims: ['order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway'],
  pausable: ['order', 'inventory'],
  killEveryMs: { min: 5_000, max: 10_000 },
  pauses: 1,
  alwaysKill,
});
const killed = (plan: ReturnType<typeof planFaults>) => plan.flatMap((f) => (f.kind === 'kill' ? [f.target] : []));

describe('planFaults', () => {
  it('should draw the same plan from the same seed', () => {
    expect(planFaults(input(42, ['notifications']))).toEqual(planFaults(input(42, ['notifications'])));
  });

  it('should kill a process named in alwaysKill in every plan, without adding kills', () => {
    const seeds = Array.from({ length: 50 }, (_, i) => i + 1);
    // Without it, some seeds never kill notifications (so the guarantee below is not a coincidence).
    expect(seeds.some((seed) => !killed(planFaults(input(seed))).includes('notifications'))).toBe(true);
    for (const seed of seeds) {
      const plan = planFaults(input(seed, ['notifications']));
      expect({ seed, killed: killed(plan).includes('notifications') }).toEqual({ seed, killed: true });
      expect(killed(plan).length).toBe(killed(planFaults(input(seed))).length);
    }
  });
});
