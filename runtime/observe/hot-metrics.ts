/**
 * Counters and histograms for the hot path (once per message or per commit). prom-client's children still validate
 * and hash their labels on every `inc()` / `observe()` (about a microsecond, ~2 % of a consumer's CPU at one
 * observation per message); these bind the labels once, so a child's count is a field update, and hand prom-client's
 * registry the same values at scrape time through its metric interface (`get()`). The text a scrape answers is the
 * one prom-client's own `Counter` and `Histogram` write: a series appears with its first `inc()` / `observe()`, and a
 * reset (`registry.resetMetrics()`) hides it until it is used again — children already held keep counting.
 */
import type { Registry } from 'prom-client';

type Config<L extends string> = { name: string; help: string; labelNames: readonly L[]; registers: Registry[] };
type Labels = Record<string, string | number>;
/** What prom-client's registry reads from a metric at scrape time (the shape its own metrics' `get()` returns). */
type Scraped = { name: string; help: string; type: 'counter' | 'histogram'; values: { labels: Labels; value: number; metricName?: string }[]; aggregator: 'sum' };

/** One series: its labels, and whether it was used since it was made or reset (unused series are not written). */
type Series<S> = { labels: Labels; state: S & { used: boolean } };

/** Series by their label values, each made on first use with its labels as prom-client writes them. */
abstract class HotMetric<L extends string, S, Child> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: Scraped['type'];
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, Series<S> & { child: Child }>();

  constructor(private readonly config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  /** The child for these label values, in `labelNames` order (as prom-client's `labels(...)`). */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      if (values.length !== this.config.labelNames.length) throw new Error(`${this.name} takes ${this.config.labelNames.length} label values (${this.config.labelNames.join(', ')}), not ${values.length}`);
      const labels: Labels = {};
      this.config.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      const state = { ...this.fresh(), used: false };
      entry = { labels, state, child: this.child(state) };
      this.series.set(key, entry);
    }
    return entry.child;
  }

  protected abstract fresh(): S;
  protected abstract child(state: S & { used: boolean }): Child;
  protected abstract zero(state: S): void;

  /** Zeroes every series and hides it until it is used again (prom-client's `registry.resetMetrics()` calls it). */
  reset(): void {
    for (const { state } of this.series.values()) {
      this.zero(state);
      state.used = false;
    }
  }

  protected used(): Series<S>[] {
    return [...this.series.values()].filter((s) => s.state.used);
  }
}

type Count = { n: number };

/** A counter whose children count in a field. */
export class HotCounter<L extends string> extends HotMetric<L, Count, { inc(by?: number): void }> {
  readonly type = 'counter' as const;

  protected fresh(): Count {
    return { n: 0 };
  }

  protected zero(state: Count): void {
    state.n = 0;
  }

  protected child(state: Count & { used: boolean }) {
    return {
      inc(by = 1) {
        if (!(by >= 0 && by < Infinity)) throw new Error(`a counter goes up by a finite number, not ${by}`);
        state.n += by;
        state.used = true;
      },
    };
  }

  get(): Scraped {
    const values = this.used().map(({ labels, state }) => ({ labels, value: state.n }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

type Buckets = { counts: Float64Array; sum: number; count: number };

/** A histogram whose children keep their bucket counts in an array. */
export class HotHistogram<L extends string> extends HotMetric<L, Buckets, { observe(value: number): void }> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(config: Config<L> & { buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected fresh(): Buckets {
    return { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  protected zero(state: Buckets): void {
    state.counts.fill(0);
    state.sum = 0;
    state.count = 0;
  }

  protected child(state: Buckets & { used: boolean }) {
    const bounds = this.bounds;
    return {
      observe(value: number) {
        if (!Number.isFinite(value)) throw new TypeError(`a histogram observes finite numbers, not ${value}`);
        state.sum += value;
        state.count++;
        state.used = true;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            state.counts[i]!++;
            return;
          }
        }
      },
    };
  }

  get(): Scraped {
    const values: Scraped['values'] = [];
    for (const { labels, state } of this.used()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += state.counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: state.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
