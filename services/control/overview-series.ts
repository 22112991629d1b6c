/**
 * The Overview's charts, derived from the processes' Prometheus metrics: the control plane scrapes every process's
 * `GET /metrics` once a second (as Prometheus would), and each line of a chart is a PromQL expression evaluated over
 * those scrapes (`metric-rates.ts`). The panel shows each line's query beside the chart, so a person can ask
 * Prometheus or Grafana for the very same number.
 */
import { histogramQuantile, sumRate, type Scrape } from './metric-rates.ts';
import { parsePrometheusText } from './prometheus-text.ts';

export type ScrapeTarget = { name: string; url: string };

/** One line of a chart: what it plots, as a PromQL query over the metrics Prometheus scrapes. */
export type ChartLine = { label: string; metric: string; query: string };
export type ChartSeries = {
  id: 'throughput' | 'latency';
  title: string;
  unit: string;
  lines: ChartLine[];
  /** One point per scrape round, oldest first: the time (ms) and each line's value (null: nothing to say yet). */
  points: { at: number; values: (number | null)[] }[];
};
export type OverviewSeries = { everyMs: number; historyS: number; targets: { name: string; up: boolean }[]; charts: ChartSeries[] };

/** The window of the rates (as the topology's) and of the latency quantiles. */
export const RATE_WINDOW_S = 10;
export const LATENCY_WINDOW_S = 60;
const HISTORY_S = 300;

type Line = ChartLine & { read(scrapes: readonly Scrape[]): number | null };
const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
const STARTED = { name: 'mailroom_sagas_total', labels: { outcome: 'started' } };
const TURNS = { name: 'mailroom_turns_total' };
const SAGA_DURATION = { name: 'mailroom_saga_duration_seconds' };

const quantile = (q: number): Line => ({
  label: `p${q * 100}`,
  metric: 'mailroom_saga_duration_seconds',
  query: `histogram_quantile(${q}, sum by (le) (rate(mailroom_saga_duration_seconds_bucket[${LATENCY_WINDOW_S}s]))) * 1000`,
  read: (s) => ms(histogramQuantile(q, s, SAGA_DURATION, LATENCY_WINDOW_S)),
});

const CHARTS: { id: ChartSeries['id']; title: string; unit: string; lines: Line[] }[] = [
  {
    id: 'throughput',
    title: 'Throughput',
    unit: '/s',
    lines: [
      { label: 'orders', metric: 'mailroom_sagas_total', query: `sum(rate(mailroom_sagas_total{outcome="started"}[${RATE_WINDOW_S}s]))`, read: (s) => sumRate(s, STARTED, RATE_WINDOW_S) },
      { label: 'messages', metric: 'mailroom_turns_total', query: `sum(rate(mailroom_turns_total[${RATE_WINDOW_S}s]))`, read: (s) => sumRate(s, TURNS, RATE_WINDOW_S) },
    ],
  },
  { id: 'latency', title: 'Saga latency', unit: 'ms', lines: [quantile(0.5), quantile(0.99)] },
];

/**
 * Scrapes the targets every `everyMs`, keeps a minute of scrapes, and one point per chart line per round.
 *
 * @example
 * const series = new OverviewScraper(async () => [{ name: 'order', url: 'http://127.0.0.1:3001' }]).start();
 * series.series(); // { charts: [{ id: 'throughput', lines: [...], points: [...] }, …] }
 */
export class OverviewScraper {
  private scrapes: Scrape[] = [];
  private up = new Map<string, boolean>();
  private readonly points = new Map<ChartSeries['id'], ChartSeries['points']>(CHARTS.map((c) => [c.id, []]));
  private timer: ReturnType<typeof setInterval> | undefined;
  private round: Promise<void> | undefined;

  constructor(
    private readonly targets: () => Promise<readonly ScrapeTarget[]> | readonly ScrapeTarget[],
    private readonly options: { everyMs?: number; timeoutMs?: number; now?: () => number } = {},
  ) {}

  private get everyMs() {
    return this.options.everyMs ?? 1_000;
  }

  start(): this {
    void this.scrapeOnce();
    this.timer = setInterval(() => void this.scrapeOnce(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round: every target scraped at once (one that does not answer is skipped), then one point per line. */
  scrapeOnce(): Promise<void> {
    this.round ??= (async () => {
      try {
        const at = (this.options.now ?? Date.now)();
        const targets = await Promise.resolve(this.targets()).catch(() => []);
        const got = await Promise.all(targets.map(async (t) => ({ t, text: await this.fetchText(t.url) })));
        for (const { t, text } of got) {
          this.up.set(t.name, text !== null);
          if (text !== null) this.scrapes.push({ target: t.name, at, samples: parsePrometheusText(text) });
        }
        this.scrapes = this.scrapes.filter((s) => s.at >= at - (LATENCY_WINDOW_S + 5) * 1000);
        for (const chart of CHARTS) {
          const points = this.points.get(chart.id)!;
          points.push({ at, values: chart.lines.map((l) => l.read(this.scrapes)) });
          while (points.length > 0 && points[0]!.at < at - HISTORY_S * 1000) points.shift();
        }
      } finally {
        this.round = undefined;
      }
    })();
    return this.round;
  }

  private async fetchText(origin: string): Promise<string | null> {
    try {
      const res = await fetch(new URL('/metrics', origin), { signal: AbortSignal.timeout(this.options.timeoutMs ?? 2_000) });
      return res.ok ? await res.text() : null;
    } catch {
      return null;
    }
  }

  /** Every chart with its lines' queries and the points of the last five minutes. */
  series(): OverviewSeries {
    return {
      everyMs: this.everyMs,
      historyS: HISTORY_S,
      targets: [...this.up].map(([name, up]) => ({ name, up })),
      charts: CHARTS.map(({ id, title, unit, lines }) => ({
        id,
        title,
        unit,
        lines: lines.map(({ label, metric, query }) => ({ label, metric, query })),
        points: this.points.get(id)!.slice(),
      })),
    };
  }
}
