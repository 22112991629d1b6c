/**
 * The trace of the saga on screen: polled while the waterfall is open, because the processes export their spans in
 * batches (every half second or so) and a trace fills in over a few seconds; the last answer stays while a poll fails.
 */
import type { Trace } from '../api/observe-types.ts';
import type { Panel } from './panel.svelte.ts';
import { Poll } from './poll.svelte.ts';

export class TraceState {
  private readonly poll: Poll<Trace>;

  constructor(panel: Panel, orderId: () => string) {
    this.poll = new Poll<Trace>(panel.api, () => `/control/sagas/${encodeURIComponent(orderId())}/trace`, 1_500);
  }

  get trace(): Trace | null {
    return this.poll.data;
  }

  get error(): string | null {
    return this.poll.error;
  }

  start(): () => void {
    return this.poll.start();
  }
}
