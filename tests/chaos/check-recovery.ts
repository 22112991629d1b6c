/**
 * Every blow was recovered from: each killed process came back healthy with its service's partitions owned again
 * within 60 s; after the Redis restart every process reconnected (health 200, heartbeats again) and no counter that
 * only grows went down — acknowledged writes survive a `kill -9` of Redis; no partition stalled with messages
 * waiting; and every process answers its health check at the end.
 */
import type { CheckContext } from './check-context.ts';
import { STALL_MS, type Stall } from './watchdog.ts';

const CHECK = 'recovery';

export function checkRecovery(ctx: CheckContext, seen: { stalls: Stall[]; health: (readonly [string, number])[]; runStartedAt: number }): void {
  const fail = (check: string, message: string) => ctx.violations.push({ check, message });
  for (const kill of ctx.injector.kills) {
    if (kill.recoveredMs === undefined) fail(CHECK, `${kill.target} (killed pid ${kill.pid}) was not healthy with its partitions owned within 60 s`);
  }
  for (const restart of ctx.injector.redisRestarts) {
    if (restart.recoveredMs === undefined) fail(CHECK, `after the Redis restart these did not come back (reconnect) within 60 s: ${restart.stragglers.join('; ')}`);
    ctx.notes.push(`Redis restart: counters before the kill ${JSON.stringify(restart.before)}, after ${JSON.stringify(restart.after)}`);
    for (const [counter, before] of Object.entries(restart.before)) {
      const after = restart.after[counter];
      if (after !== undefined && after < before) fail('durability', `${counter} went from ${before} to ${after} across the Redis restart: acknowledged writes were lost`);
    }
  }
  for (const stall of seen.stalls) {
    const at = ((stall.since - seen.runStartedAt) / 1000).toFixed(0);
    fail(
      'liveness',
      `${stall.service} partition ${stall.partition} made no progress for ${(stall.ms / 1000).toFixed(0)} s (over ${STALL_MS / 1000} s) from ${at} s into the run, with ${stall.waiting} message(s) waiting; lease ${stall.holder ?? 'free'}`,
    );
  }
  for (const [name, status] of seen.health) if (status !== 200) fail(CHECK, `${name} answers /health with ${status} at the end`);
}
