/**
 * Reads Prometheus' text exposition format (what every process's `GET /metrics` answers) into samples: the control
 * plane scrapes the processes exactly as Prometheus does, so the Overview's charts and Prometheus read one set of
 * counters. Only what a scrape of prom-client holds is needed: `name{labels} value`, comments skipped.
 */

export type Sample = { name: string; labels: Record<string, string>; value: number };

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

function number(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Every sample of an exposition; lines that are not samples (comments, blanks, garbage) are skipped.
 *
 * @example
 * parsePrometheusText('mailroom_turns_total{service="order",actor_type="order"} 42\n');
 * // [{ name: 'mailroom_turns_total', labels: { service: 'order', actor_type: 'order' }, value: 42 }]
 */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    const value = number(m[3]!);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}
