import { describe, expect, it } from 'bun:test';
import { toHealthRows } from '../../panel/src/lib/process-health.ts';

describe('toHealthRows', () => {
  it('should tell up, degraded and down apart', () => {
    expect(
      toHealthRows([
        { name: 'order', url: 'u', healthy: true, status: 200, pid: 42, uptimeMs: 90_000 },
        { name: 'payment', url: 'u', healthy: false, status: 503 },
        { name: 'shipping', url: 'u', healthy: false, error: 'connection refused' },
      ]),
    ).toEqual([
      { name: 'order', state: 'up', detail: 'pid 42, up 1 min' },
      { name: 'payment', state: 'degraded', detail: 'answers 503' },
      { name: 'shipping', state: 'down', detail: 'connection refused' },
    ]);
  });
});
