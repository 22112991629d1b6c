/**
 * Asking a process whether it is healthy: one GET on its health URL with a short deadline, described in words for
 * the "did not become healthy" message (`503 {"status":"degraded",…}`, `connection refused`).
 */

export type HealthProbe = { ok: boolean; detail: string };

/** How long one probe may take. */
export const PROBE_TIMEOUT_MS = 1000;

function shorten(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/**
 * One health probe: ok on a 2xx answer.
 *
 * @example
 * await probeHealth('http://127.0.0.1:3001/health'); // { ok: true, detail: '200' }
 */
export async function probeHealth(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthProbe> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (res.ok) {
      await res.body?.cancel();
      return { ok: true, detail: String(res.status) };
    }
    return { ok: false, detail: shorten(`${res.status} ${await res.text().catch(() => '')}`) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ConnectionRefused' || code === 'ECONNREFUSED') return { ok: false, detail: 'connection refused' };
    if (error instanceof Error && error.name === 'TimeoutError') return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    return { ok: false, detail: shorten(error instanceof Error ? error.message : String(error)) };
  }
}
