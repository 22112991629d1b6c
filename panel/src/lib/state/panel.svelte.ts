/**
 * The panel's shared state, created once: the API client (with the token taken from the URL), the router, the
 * live event stream, and the polls every view reads — topology, stats, the Overview's series, breakers — with the
 * chart series they feed.
 * They run for as long as the panel is open, so a chart has history whichever view a person opens first.
 */
import { ApiClient } from '../api/client.ts';
import { loadToken } from '../api/token.ts';
import type { OverviewSeries } from '../api/observe-types.ts';
import type { BreakerRow, Stats, Topology } from '../api/types.ts';
import { baselineOf, instanceRates, TRAFFIC_WINDOW_MS, type InstanceSample } from '../models/instance-traffic.ts';
import { RollingSeries } from '../models/series.ts';
import { LiveStream } from './live.svelte.ts';
import { Poll } from './poll.svelte.ts';
import { Router } from './router.svelte.ts';

export const breakerKey = (b: Pick<BreakerRow, 'process' | 'dependency'>) => `${b.process}/${b.dependency}`;

export type Notice = { id: number; text: string; meaning: 'ok' | 'bad' };

export class Panel {
  readonly token: string | null;
  readonly api: ApiClient;
  readonly router = new Router();
  readonly live = new LiveStream(undefined, undefined, () => this.token);
  /** Ticks every second, for countdowns and "ago". */
  now = $state(Date.now());
  notices = $state<Notice[]>([]);

  /** Orders/s and messages/s (all services): the control plane's rates of the processes' Prometheus counters. */
  readonly throughput = new RollingSeries(2, 300);
  /** Saga latency p50 and p99 (ms, last 60 s): quantiles of the processes' saga duration histogram. */
  readonly latency = new RollingSeries(2, 300);
  /** Failure rate (%) and its threshold, per breaker. */
  readonly breakerRates = new Map<string, RollingSeries>();
  /** Bumped whenever a series gets a sample: charts redraw on it. */
  seriesVersion = $state(0);

  readonly topology: Poll<Topology>;
  /** Requests/s per service instance id over the last TRAFFIC_WINDOW_MS, from the topology's counters. */
  instanceTraffic = $state.raw<Record<string, number | null>>({});
  private instanceSamples: InstanceSample[] = [];
  readonly stats: Poll<Stats>;
  /** The Overview's charts as the control plane derives them from every process's `/metrics`. */
  readonly overview: Poll<OverviewSeries>;
  readonly breakers: Poll<BreakerRow[]>;
  private nextNotice = 1;
  private controlPid: number | null = null;

  constructor() {
    this.token = loadToken(location, history, sessionStorage);
    this.api = new ApiClient(() => this.token);
    // The topology poll doubles as the control plane's pulse: when it fails, the live stream reconnects.
    // A new control-plane pid means the stream's server is gone even if the proxy kept the connection open.
    this.topology = new Poll<Topology>(
      this.api,
      () => '/control/topology',
      1_000,
      (t, at) => {
        this.observeInstances({ at, instances: t.instances });
        const pid = t.processes.find((p) => p.name === 'control')?.pid ?? null;
        if (this.controlPid !== null && pid !== null && pid !== this.controlPid) this.live.reconnect();
        if (pid !== null) this.controlPid = pid;
      },
      () => this.live.reconnect(),
    );
    this.stats = new Poll<Stats>(this.api, () => '/control/stats', 1_000);
    // The charts draw the control plane's points as they are: the same numbers Prometheus computes.
    this.overview = new Poll<OverviewSeries>(this.api, () => '/control/overview/series', 1_000, (o) => {
      for (const chart of o.charts) (chart.id === 'throughput' ? this.throughput : this.latency).replace(chart.points);
      this.seriesVersion++;
    });
    this.breakers = new Poll<BreakerRow[]>(this.api, () => '/control/breakers', 1_000, (rows, at) => {
      for (const b of rows) {
        if (b.unreachable) continue;
        const key = breakerKey(b);
        let s = this.breakerRates.get(key);
        if (!s) this.breakerRates.set(key, (s = new RollingSeries(2, 300)));
        s.push(at, [b.window?.failureRate ?? null, b.thresholds?.failureRateThreshold ?? null]);
      }
      this.seriesVersion++;
    });
  }

  private observeInstances(sample: InstanceSample): void {
    this.instanceSamples = [...this.instanceSamples.filter((s) => sample.at - s.at <= 2 * TRAFFIC_WINDOW_MS), sample];
    this.instanceTraffic = instanceRates(baselineOf(this.instanceSamples, sample.at), sample);
  }

  start(): () => void {
    const stops = [this.live.start(), this.topology.start(), this.stats.start(), this.overview.start(), this.breakers.start()];
    const tick = setInterval(() => (this.now = Date.now()), 1_000);
    return () => {
      clearInterval(tick);
      for (const stop of stops) stop();
    };
  }

  /** A short message in the corner: what an action did, or why it failed. */
  notify(text: string, meaning: Notice['meaning'] = 'ok'): void {
    const id = this.nextNotice++;
    this.notices = [...this.notices.slice(-3), { id, text, meaning }];
    setTimeout(() => (this.notices = this.notices.filter((n) => n.id !== id)), meaning === 'bad' ? 8_000 : 4_000);
  }

  /** Runs an action, reporting its outcome as a notice; returns its result or null when it failed. */
  async act<T>(what: string, run: () => Promise<T>): Promise<T | null> {
    try {
      const result = await run();
      this.notify(what);
      return result;
    } catch (error) {
      this.notify(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, 'bad');
      return null;
    }
  }
}

let instance: Panel | undefined;
/** The panel's one shared state (created on first use, in the browser). */
export function usePanel(): Panel {
  return (instance ??= new Panel());
}
