/**
 * Batches a firehose to the screen: items pushed at any rate come out in at most one flush per interval (100 ms =
 * ≤ 10 repaints a second), in order. The timer is injected, so the tests drive it by hand.
 */

export type Schedule = (fn: () => void, ms: number) => unknown;

export class Batcher<T> {
  private pending: T[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly intervalMs = 100,
    private readonly schedule: Schedule = (fn, ms) => setTimeout(fn, ms),
  ) {}

  push(items: T[]): void {
    if (items.length === 0) return;
    for (const item of items) this.pending.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      const out = this.pending;
      this.pending = [];
      if (out.length) this.flush(out);
    }, this.intervalMs);
  }
}
