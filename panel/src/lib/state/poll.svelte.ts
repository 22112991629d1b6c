/**
 * A value kept fresh by polling one control-plane URL: the last good answer stays on screen while a later poll
 * fails (a process dying must not blank the panel), and `error` says why it is stale.
 */
import type { ApiClient } from '../api/client.ts';

export class Poll<T> {
  data = $state.raw<T | null>(null);
  error = $state<string | null>(null);
  updatedAt = $state<number | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight = false;

  constructor(
    private readonly api: ApiClient,
    private readonly path: () => string,
    private readonly intervalMs: number,
    private readonly onData?: (data: T, at: number) => void,
    private readonly onError?: (message: string) => void,
  ) {}

  async refresh(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const data = await this.api.get<T>(this.path());
      const at = Date.now();
      this.data = data;
      this.error = null;
      this.updatedAt = at;
      this.onData?.(data, at);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.onError?.(this.error);
    } finally {
      this.inFlight = false;
    }
  }

  /** Starts polling; returns the stop function (for `$effect`). */
  start(): () => void {
    if (this.running) return () => this.stop();
    this.running = true;
    const tick = async () => {
      await this.refresh();
      if (this.running) this.timer = setTimeout(tick, this.intervalMs);
    };
    void tick();
    return () => this.stop();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }
}
