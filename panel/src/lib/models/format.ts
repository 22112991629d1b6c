/**
 * Numbers as a person reads them, each with its unit: durations, rates, bytes, countdowns, clock times.
 */

/**
 * @example
 * formatDuration(1530); // '1.5 s'
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

/** A countdown to `until` from `now`: "42 s left", "expired". */
export function timeLeft(until: number, now: number): string {
  const ms = until - now;
  if (ms <= 0) return 'expired';
  if (ms < 60_000) return `${Math.ceil(ms / 1000)} s left`;
  return `${Math.floor(ms / 60_000)} min ${Math.ceil((ms % 60_000) / 1000)} s left`;
}

/** A rate with its unit: "12.5 msg/s". */
export function formatRate(perSec: number | null | undefined, unit = 'msg/s'): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return `— ${unit}`;
  const digits = perSec >= 100 ? 0 : perSec >= 10 ? 1 : 2;
  return `${Number(perSec.toFixed(digits))} ${unit}`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** "14:02:31.250" — events happen close together; the milliseconds matter. */
export function clockTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "3 s ago" from `now`. */
export function ago(at: number, now: number): string {
  const ms = Math.max(0, now - at);
  if (ms < 1000) return 'just now';
  return `${formatDuration(ms)} ago`;
}
