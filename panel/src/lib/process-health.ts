/**
 * What the panel shows about each process, and the pure step from the control plane's answer to rows on screen.
 */

/** One row of `GET /control/processes`. */
export type ProcessHealth = {
  name: string;
  url: string;
  healthy: boolean;
  status?: number;
  pid?: number;
  uptimeMs?: number;
  error?: string;
};

export type HealthRow = { name: string; state: 'up' | 'degraded' | 'down'; detail: string };

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * Rows for the health table: up (200), degraded (answers, but not 200), down (no answer).
 *
 * @example
 * toHealthRows([{ name: 'order', url: '…', healthy: true, status: 200, pid: 42, uptimeMs: 90_000 }]);
 * // [{ name: 'order', state: 'up', detail: 'pid 42, up 1 min' }]
 */
export function toHealthRows(processes: ProcessHealth[]): HealthRow[] {
  return processes.map((p) => {
    if (p.healthy) return { name: p.name, state: 'up', detail: `pid ${p.pid ?? '?'}, up ${uptime(p.uptimeMs ?? 0)}` };
    if (p.status !== undefined) return { name: p.name, state: 'degraded', detail: `answers ${p.status}` };
    return { name: p.name, state: 'down', detail: p.error ?? 'no answer' };
  });
}
