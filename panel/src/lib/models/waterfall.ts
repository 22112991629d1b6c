/**
 * A trace as a waterfall: its spans in tree order (each child under its parent, siblings by start time), each with
 * its depth, its start offset from the trace's first span and its duration, and where its bar sits on a 0–100
 * scale of the whole trace. A span whose parent was not received (still in an exporter's batch, or outside the
 * trace, as a browser's) starts a tree of its own.
 */
import type { TraceSpan } from '../api/observe-types.ts';

export type WaterfallRow = { span: TraceSpan; depth: number; offsetMs: number; durationMs: number; left: number; width: number };
export type Waterfall = { rows: WaterfallRow[]; totalMs: number; services: string[] };

/**
 * @example
 * waterfall([{ spanId: 'a', parentSpanId: '', startMs: 0, durationMs: 10, … }, { spanId: 'b', parentSpanId: 'a', startMs: 2, durationMs: 5, … }]);
 * // rows: a (depth 0, offset 0, 10 ms), b (depth 1, offset 2, 5 ms); totalMs 10
 */
export function waterfall(spans: readonly TraceSpan[]): Waterfall {
  if (spans.length === 0) return { rows: [], totalMs: 0, services: [] };
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const totalMs = end - start;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: TraceSpan, b: TraceSpan) => a.startMs - b.startMs || a.name.localeCompare(b.name);
  const rows: WaterfallRow[] = [];
  const seen = new Set<string>();
  const walk = (s: TraceSpan, depth: number) => {
    if (seen.has(s.spanId)) return; // a span id sent twice is drawn once
    seen.add(s.spanId);
    const offsetMs = s.startMs - start;
    rows.push({
      span: s,
      depth,
      offsetMs,
      durationMs: s.durationMs,
      left: totalMs > 0 ? (offsetMs / totalMs) * 100 : 0,
      width: totalMs > 0 ? (s.durationMs / totalMs) * 100 : 100,
    });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  const services = [...new Set(spans.map((s) => s.service))].sort();
  return { rows, totalMs, services };
}
