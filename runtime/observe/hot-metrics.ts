/**
 * Counters and histograms for the hot path (once per message or per commit). prom-client's children still validate
 * and hash their labels on every `inc()` / `observe()` (about a microsecond, ~2 % of a consumer's CPU at one
 * observation per message); these bind the labels once, so a child's count is a field update, and hand prom-client's
 * registry the same values at scrape time through its metric interface (`get()`). The text a scrape answers is the
 * one prom-client's own `Counter` and `Histogram` write.
 */
import type { Registry } from 'prom-client';

type Config<L extends string> = { name: string; help: string; labelNames: readonly L[]; registers: Registry[] };
type Labels = Record<string, string | number>;
/** What prom-client's registry reads from a metric at scrape time (the shape its own metrics' `get()` returns). */
type Scraped = { name: string; help: string; type: 'counter' | 'histogram'; values: { labels: Labels; value: number; metricName?: string }[]; aggregator: 'sum' };

/** Children by their label values, each made on first use with its labels as prom-client writes them. */
abstract class HotMetric<L extends string, Child> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: Scraped['type'];
  readonly aggregator = 'sum' as const;
  protected readonly children = new Map<string, { labels: Labels; child: Child }>();

  constructor(private readonly config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  /** The child for these label values, in `labelNames` order (as prom-client's `labels(...)`). */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      if (values.length !== this.config.labelNames.length) throw new Error(`${this.name} takes ${this.config.labelNames.length} label values (${this.config.labelNames.join(', ')}), not ${values.length}`);
      const labels: Labels = {};
      this.config.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      entry = { labels, child: this.child() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract child(): Child;

  /** Forgets every child (prom-client's `registry.resetMetrics()` calls it). */
  reset(): void {
    this.children.clear();
  }
}

/** A counter whose children count in a field. */
export class HotCounter<L extends string> extends HotMetric<L, { n: number; inc(by?: number): void }> {
  readonly type = 'counter' as const;

  protected child() {
    const child = {
      n: 0,
      inc(by = 1) {
        if (!(by >= 0)) throw new Error(`a counter cannot go down or by ${by}`);
        child.n += by;
      },
    };
    return child;
  }

  get(): Scraped {
    const values = [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.n }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** A histogram whose children keep their bucket counts in an array. */
export class HotHistogram<L extends string> extends HotMetric<L, { observe(value: number): void }> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];
  private readonly state = new Map<object, { counts: Float64Array; sum: number; count: number }>();

  constructor(config: Config<L> & { buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected child() {
    const bounds = this.bounds;
    const s = { counts: new Float64Array(bounds.length), sum: 0, count: 0 };
    const child = {
      observe(value: number) {
        if (!Number.isFinite(value)) throw new TypeError(`a histogram observes finite numbers, not ${value}`);
        s.sum += value;
        s.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            s.counts[i]!++;
            return;
          }
        }
      },
    };
    this.state.set(child, s);
    return child;
  }

  override reset(): void {
    super.reset();
    this.state.clear();
  }

  get(): Scraped {
    const values: Scraped['values'] = [];
    for (const { labels, child } of this.children.values()) {
      const s = this.state.get(child)!;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
