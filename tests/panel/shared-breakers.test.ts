import { describe, expect, it } from 'bun:test';
import type { SharedBreakerRow } from '../../panel/src/lib/api/types.ts';
import { sharedByName, sharingWords } from '../../panel/src/lib/models/shared-breakers.ts';

describe('sharingWords', () => {
  it('should say how many processes share a breaker and which are cut off or behind', () => {
    type Instance = SharedBreakerRow['instances'][number];
    const at = (instance: string, mode: Instance['mode'], state: Instance['state']): Instance => ({ instance, source: 'payment', pid: 1, state, mode, ageMs: 100 });
    const row: SharedBreakerRow = { name: 'provider', state: 'open', version: 3, trips: 1, openedAt: 1, cause: 'trip', instances: [at('p:1', 'shared', 'open'), at('p:2', 'shared', 'closed'), at('p:3', 'local', 'closed')] };
    expect(sharingWords(row)).toBe('shared by 3 processes · 1 judging alone (cut off from Redis) · 1 not caught up with open yet');
    expect(sharingWords({ ...row, instances: [row.instances[0]!] })).toBe('shared by 1 process');
    expect(sharingWords({ ...row, instances: [] })).toBe('shared, no process heartbeating it (last 5 s)');
    expect(sharedByName([row]).get('provider')?.instances).toHaveLength(3);
    expect(sharedByName(null).size).toBe(0);
  });
});
