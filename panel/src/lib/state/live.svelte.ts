/**
 * The live event stream (SSE from `/control/events/stream`): keeps the newest events for the views, hands every
 * batch to subscribers at most ten times a second, and reconnects by itself — resuming from the last event id, so
 * a control plane that restarts loses the panel nothing. `status` says whether the panel is live or reconnecting.
 */
import type { LiveEvent } from '../api/types.ts';
import { Batcher } from '../models/batcher.ts';
import { appendBounded } from '../models/ring.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

const KEEP = 4000;

export class LiveStream {
  status = $state<LiveStatus>('connecting');
  /** The newest events, oldest first. */
  events = $state.raw<LiveEvent[]>([]);
  /** Events received since the panel opened. */
  received = $state(0);
  /** Recent arrival rate (events/s over the last few seconds). */
  rate = $state(0);
  lastId: string | null = null;
  private source: EventSource | null = null;
  private retryMs = 500;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly listeners = new Set<(batch: LiveEvent[]) => void>();
  private arrivals: { at: number; n: number }[] = [];
  private readonly batcher = new Batcher<LiveEvent>((batch) => this.flush(batch), 100);

  constructor(
    private readonly url = '/control/events/stream',
    private readonly historyUrl = '/control/events?limit=300',
    /** The control token: an exposed control plane wants it on reads too. */
    private readonly token: () => string | null = () => null,
  ) {}

  start(): () => void {
    this.stopped = false;
    void this.begin();
    return () => this.stop();
  }

  /** The recent history first (so the views are not empty on a quiet system), then the stream from its last id. */
  private async begin(): Promise<void> {
    try {
      const token = this.token();
      const res = await fetch(this.historyUrl, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
      if (res.ok) {
        const history = (await res.json()) as LiveEvent[];
        const last = history[history.length - 1];
        if (last?.id) this.lastId = last.id;
        if (history.length) this.flush(history);
      }
    } catch {
      // No history: the stream alone will do.
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /**
   * The control plane stopped answering (a poll failed): a stream through a proxy may hang open without an error,
   * so drop it and reconnect from the last id until the control plane is back.
   */
  reconnect(): void {
    if (this.stopped || this.status === 'reconnecting') return;
    this.status = 'reconnecting';
    this.source?.close();
    this.source = null;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
  }

  /** Every flushed batch (≤ 10 a second); returns the unsubscribe function. */
  subscribe(fn: (batch: LiveEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private connect(): void {
    if (this.stopped) return;
    const query = new URLSearchParams();
    if (this.lastId) query.set('from', this.lastId);
    // EventSource cannot send headers: the stream alone takes the token in its query.
    const token = this.token();
    if (token) query.set('access_token', token);
    const source = new EventSource(query.size ? `${this.url}?${query}` : this.url);
    this.source = source;
    source.onopen = () => {
      this.status = 'live';
      this.retryMs = 500;
    };
    source.onmessage = (message) => {
      if (message.lastEventId) this.lastId = message.lastEventId;
      let batch: LiveEvent[];
      try {
        const parsed = JSON.parse(message.data) as LiveEvent[] | LiveEvent;
        batch = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        return;
      }
      const last = batch[batch.length - 1];
      if (last?.id) this.lastId = last.id;
      this.batcher.push(batch);
    };
    source.onerror = () => {
      if (this.stopped) return;
      this.status = 'reconnecting';
      // The browser retries by itself (with Last-Event-ID) unless the answer was an error: then we do, from lastId.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(5_000, this.retryMs * 2);
      }
    };
  }

  private flush(batch: LiveEvent[]): void {
    const now = Date.now();
    this.arrivals = [...this.arrivals.filter((a) => a.at > now - 5_000), { at: now, n: batch.length }];
    this.rate = this.arrivals.reduce((sum, a) => sum + a.n, 0) / 5;
    this.received += batch.length;
    this.events = appendBounded(this.events, batch, KEEP);
    for (const fn of this.listeners) fn(batch);
  }
}
