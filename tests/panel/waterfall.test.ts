import { describe, expect, it } from 'bun:test';
import type { TraceSpan } from '../../panel/src/lib/api/observe-types.ts';
import { waterfall } from '../../panel/src/lib/models/waterfall.ts';

const span = (spanId: string, parentSpanId: string, service: string, startMs: number, durationMs: number, name = spanId): TraceSpan => ({
  traceId: 't'.repeat(32),
  spanId,
  parentSpanId,
  service,
  name,
  kind: 0,
  startMs,
  durationMs,
  error: false,
  attributes: {},
});

describe('waterfall', () => {
  it('should list spans in tree order, children under parents by start, with depth, offset and bar', () => {
    const w = waterfall([
      span('c2', 'b', 'inventory', 1_030, 10),
      span('a', '', 'gateway', 1_000, 100),
      span('b', 'a', 'order', 1_010, 40),
      span('c1', 'b', 'order', 1_020, 5),
      span('d', 'a', 'payment', 1_060, 40),
    ]);
    expect(w.rows.map((r) => `${'  '.repeat(r.depth)}${r.span.spanId} +${r.offsetMs} ${r.durationMs}`)).toEqual(['a +0 100', '  b +10 40', '    c1 +20 5', '    c2 +30 10', '  d +60 40']);
    expect(w.totalMs).toBe(100);
    expect(w.rows.find((r) => r.span.spanId === 'd')).toMatchObject({ left: 60, width: 40 });
    expect(w.services).toEqual(['gateway', 'inventory', 'order', 'payment']);
  });

  it('should start a tree at a span whose parent was not received, and draw a repeated span once', () => {
    const w = waterfall([span('x', 'f'.repeat(16), 'shipping', 5, 1), span('a', '', 'gateway', 0, 10), span('a', '', 'gateway', 0, 10)]);
    expect(w.rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['a', 0],
      ['x', 0],
    ]);
  });

  it('should be empty for no spans', () => {
    expect(waterfall([])).toEqual({ rows: [], totalMs: 0, services: [] });
  });
});
