/**
 * Which rows of a long list to render (the list is virtualised: 100,000 actors render as the ~30 on screen).
 */

export type VisibleRange = { start: number; end: number; offsetTop: number; totalHeight: number };

/**
 * @example
 * visibleRange({ scrollTop: 3200, viewport: 600, rowHeight: 32, count: 100_000 }); // { start: 92, end: 127, offsetTop: 2944, totalHeight: 3200000 }
 */
export function visibleRange(o: { scrollTop: number; viewport: number; rowHeight: number; count: number; overscan?: number }): VisibleRange {
  const overscan = o.overscan ?? 8;
  const first = Math.floor(Math.max(0, o.scrollTop) / o.rowHeight);
  const start = Math.max(0, Math.min(o.count, first - overscan));
  const end = Math.min(o.count, first + Math.ceil(o.viewport / o.rowHeight) + overscan);
  return { start, end: Math.max(start, end), offsetTop: start * o.rowHeight, totalHeight: o.count * o.rowHeight };
}
