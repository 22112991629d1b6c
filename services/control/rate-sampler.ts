/**
 * Samples every node's heartbeat counters once a second and keeps the last few seconds of them, so the topology
 * can say how many messages each service processes per second and how many flow between services (`rates.ts`).
 */
import type { ClusterView } from '../../runtime/ops/index.ts';
import { ratesOver, type RateSample, type Rates } from './rates.ts';

export const RATE_WINDOW_S = 10;

export class RateSampler {
  private samples: RateSample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly view: Pick<ClusterView, 'nodes' | 'services'>) {}

  /** Samples every `everyMs` until `stop()`. */
  start(everyMs = 1_000): this {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One sample now (a Redis error skips it). */
  sample(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        const nodes = await this.view.nodes();
        const at = Date.now();
        this.samples.push({ at, nodes: nodes.map(({ nodeId, service, processed, sent, at: beat }) => ({ nodeId, service, processed, sent, at: beat })) });
        this.samples = this.samples.filter((s) => s.at >= at - (RATE_WINDOW_S + 5) * 1000);
      } catch {
        // Redis unreachable: the rates go stale, the topology says Redis is down.
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }

  /** Rates over the last 10 s, every known service listed. */
  async rates(): Promise<Rates> {
    const services = await this.view.services().catch(() => []);
    return ratesOver(this.samples, RATE_WINDOW_S, services);
  }
}
