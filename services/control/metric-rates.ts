/**
 * PromQL's `rate` and `histogram_quantile`, over scrapes the control plane kept: what Prometheus would compute from
 * the same `/metrics` answers, so a chart in the panel and a Prometheus query name the same number. A counter that
 * went down restarted with its process and counts from zero, as in Prometheus; one that did not exist at the
 * window's first scrape counted nothing before it.
 */
import type { Sample } from './prometheus-text.ts';

/** One process's `/metrics` at one moment (ms since the epoch; the time the scrape started, as Prometheus keeps). */
export type Scrape = { target: string; at: number; samples: Sample[] };

/** A metric name and the labels a sample must carry (any others may be there). */
export type Selector = { name: string; labels?: Record<string, string> };

const matches = (s: Sample, sel: Selector) => s.name === sel.name && Object.entries(sel.labels ?? {}).every(([k, v]) => s.labels[k] === v);
const seriesKey = (s: Sample) => JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)));

/** Each target's first and last scrape within `windowS` before the newest scrape of all (oldest first). */
function spans(scrapes: readonly Scrape[], windowS: number): { first: Scrape; last: Scrape }[] {
  const newest = Math.max(...scrapes.map((s) => s.at));
  const since = newest - windowS * 1000;
  const byTarget = new Map<string, { first: Scrape; last: Scrape }>();
  for (const s of scrapes) {
    if (s.at < since) continue;
    const seen = byTarget.get(s.target);
    if (!seen) byTarget.set(s.target, { first: s, last: s });
    else {
      if (s.at < seen.first.at) seen.first = s;
      if (s.at > seen.last.at) seen.last = s;
    }
  }
  return [...byTarget.values()].filter((p) => p.last.at > p.first.at);
}

/** How much each series matching `sel` grew between two scrapes of one target, by series. */
function increases(first: Scrape, last: Scrape, sel: Selector): Map<string, { sample: Sample; grown: number }> {
  const before = new Map(first.samples.filter((s) => matches(s, sel)).map((s) => [seriesKey(s), s.value]));
  const out = new Map<string, { sample: Sample; grown: number }>();
  for (const s of last.samples) {
    if (!matches(s, sel)) continue;
    const key = seriesKey(s);
    const was = before.get(key);
    out.set(key, { sample: s, grown: was === undefined || s.value < was ? s.value : s.value - was });
  }
  return out;
}

/**
 * `sum(rate(sel[windowS]))` over every target: each target's growth between its first and last scrape in the
 * window, over the seconds between them. Null until some target has two scrapes in the window.
 *
 * @example
 * sumRate(scrapes, { name: 'mailroom_turns_total' }, 10); // messages applied per second, all processes
 */
export function sumRate(scrapes: readonly Scrape[], sel: Selector, windowS: number): number | null {
  const pairs = spans(scrapes, windowS);
  if (pairs.length === 0) return null;
  let total = 0;
  for (const { first, last } of pairs) {
    let grown = 0;
    for (const { grown: g } of increases(first, last, sel).values()) grown += g;
    total += grown / ((last.at - first.at) / 1000);
  }
  return total;
}

/**
 * `histogram_quantile(q, sum by (le) (rate(<name>_bucket[windowS])))`, Prometheus' interpolation included: the
 * rank's bucket found by cumulative count, linear within it, the highest finite bound when it falls in `+Inf`.
 * Null when nothing was observed in the window.
 *
 * @example
 * histogramQuantile(0.99, scrapes, { name: 'mailroom_saga_duration_seconds' }, 60); // seconds
 */
export function histogramQuantile(q: number, scrapes: readonly Scrape[], sel: Selector, windowS: number): number | null {
  const perLe = new Map<number, number>();
  const bucket = { name: `${sel.name}_bucket`, labels: sel.labels };
  for (const { first, last } of spans(scrapes, windowS)) {
    for (const { sample, grown } of increases(first, last, bucket).values()) {
      const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
      perLe.set(le, (perLe.get(le) ?? 0) + grown);
    }
  }
  const buckets = [...perLe].sort(([a], [b]) => a - b);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (buckets.length < 2 || total === 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + (le - prevLe) * ((rank - prevCount) / (count - prevCount));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
