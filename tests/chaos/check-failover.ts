/**
 * `--cluster`: every master kill was followed by a failover (the replica took its slots), the old master rejoined
 * as a replica, every process recovered, and nothing a failover lost went unseen. What a failover may lose depends on
 * the mode: with `MAILROOM_COMMIT_REPLICAS=1` only commits no replica confirmed, whose replies, relays and effects
 * never left — rolled back, then redone from the mailbox; without it any committed turn may vanish after what it
 * caused had left, so each one rolled back is a violation (acknowledged, then lost).
 */
import type { CheckContext } from './check-context.ts';

export function checkFailover(ctx: CheckContext, commitReplicas: number): void {
  const fail = (check: string, message: string) => ctx.violations.push({ check, message });
  for (const kill of ctx.injector.masterKills) {
    const where = `master ${kill.port} (replica ${kill.replicaPort})`;
    if (kill.failoverMs === undefined) fail('recovery', `${where}: no failover within 60 s of the kill`);
    if (kill.rejoinedMs === undefined) fail('recovery', `${where}: the old master did not rejoin as a replica within 60 s`);
    if (kill.recoveredMs === undefined) fail('recovery', `after killing ${where} these did not come back within 60 s: ${kill.stragglers.join('; ')}`);
    ctx.notes.push(`master kill ${where}: counters before ${JSON.stringify(kill.before)}, after ${JSON.stringify(kill.after)}`);
    for (const [counter, before] of Object.entries(kill.before)) {
      const after = kill.after[counter];
      if (after !== undefined && after < before) fail('durability', `${counter} went from ${before} to ${after} across the failover of ${where}: acknowledged writes were lost`);
    }
    if (kill.rolledBack.length === 0) continue;
    const sample = `${kill.rolledBack.slice(0, 5).join(', ')}${kill.rolledBack.length > 5 ? ', …' : ''}`;
    if (commitReplicas > 0) ctx.notes.push(`master kill ${where}: ${kill.rolledBack.length} commit(s) no replica had confirmed were rolled back (nothing they caused had left): ${sample}`);
    else fail('durability', `${kill.rolledBack.length} committed turn(s) lost with ${where} after their replies, relays and effects had left (no MAILROOM_COMMIT_REPLICAS): ${sample}`);
  }
}
