/**
 * Shared breakers as the Breakers view shows them: found by name beside the per-process rows, and summed up in words
 * (how many processes share one, which are cut off from Redis and judging alone, which see another state).
 */
import type { SharedBreakerRow } from '../api/types.ts';

/**
 * The shared breakers by name.
 *
 * @example
 * sharedByName([{ name: 'provider', … }]).get('provider')?.instances.length; // 2
 */
export function sharedByName(rows: readonly SharedBreakerRow[] | null | undefined): Map<string, SharedBreakerRow> {
  return new Map((rows ?? []).map((r) => [r.name, r]));
}

/**
 * One line on a shared breaker's instances.
 *
 * @example
 * sharingWords(provider); // 'shared by 2 processes · 1 judging alone (cut off from Redis)'
 */
export function sharingWords(row: SharedBreakerRow): string {
  const n = row.instances.length;
  const parts = [n === 0 ? 'shared, no process heartbeating it (last 5 s)' : `shared by ${n} process${n === 1 ? '' : 'es'}`];
  const local = row.instances.filter((i) => i.mode === 'local').length;
  if (local > 0) parts.push(`${local} judging alone (cut off from Redis)`);
  const differ = row.instances.filter((i) => i.mode === 'shared' && i.state !== row.state).length;
  if (differ > 0) parts.push(`${differ} not caught up with ${row.state} yet`);
  return parts.join(' · ');
}
