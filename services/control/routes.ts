/**
 * The control plane's first routes: `/control/health` (the control plane itself, for the panel behind its
 * `/control` proxy) and `/control/processes`, the health of every Mailroom process, probed in parallel. The control
 * plane issue grows this into the whole control API.
 */
import { Elysia, t } from 'elysia';
import { BUN_PROCESSES, originOf } from '../processes.ts';

const PROBE_TIMEOUT_MS = 1000;

const ProcessHealth = t.Object({
  name: t.String(),
  url: t.String(),
  healthy: t.Boolean(),
  status: t.Optional(t.Number()),
  pid: t.Optional(t.Number()),
  uptimeMs: t.Optional(t.Number()),
  error: t.Optional(t.String()),
});
export type ProcessHealth = typeof ProcessHealth.static;

async function probe(name: (typeof BUN_PROCESSES)[number][0]): Promise<ProcessHealth> {
  const url = `${originOf(name)}/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { pid?: number; uptimeMs?: number };
    return { name, url, healthy: res.ok, status: res.status, pid: body.pid, uptimeMs: body.uptimeMs };
  } catch (error) {
    return { name, url, healthy: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export const controlRoutes = new Elysia({ name: 'control:processes', prefix: '/control' })
  .get('/health', () => ({ status: 'ok' as const, service: 'control', pid: process.pid }), {
    detail: { summary: 'The control plane answers (for the panel behind its /control proxy)', tags: ['health'] },
  })
  .get('/processes', () => Promise.all(BUN_PROCESSES.map(([name]) => probe(name))), {
    response: t.Array(ProcessHealth),
    detail: { summary: 'Health of every Mailroom process, probed now', tags: ['processes'] },
  });
