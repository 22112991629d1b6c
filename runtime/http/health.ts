/**
 * The `/health` answer every Mailroom process gives: who it is, its pid and uptime, and the result of each
 * dependency check (Redis, for the services). The supervisor waits for a 200 here; a failing check makes it a 503
 * with `status: 'degraded'`, so "up but cannot reach Redis" is never mistaken for healthy.
 */

/** A dependency check: resolves when the dependency answers, throws (or rejects) when it does not. */
export type HealthCheck = () => unknown | Promise<unknown>;

export type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; error: string };

export type HealthBody = {
  status: 'ok' | 'degraded';
  service: string;
  version: string;
  pid: number;
  uptimeMs: number;
  checks?: Record<string, CheckResult>;
};

/** How long one check may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 1000;

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([Promise.resolve().then(check), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, ms: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every check in parallel and builds the health body with the status code to answer with.
 *
 * @example
 * const { status, body } = await checkHealth({ service: 'order', version: '0.1.0', startedAt, checks: { redis: () => redis.ping() } });
 */
export async function checkHealth(options: {
  service: string;
  version: string;
  startedAt: number;
  checks?: Record<string, HealthCheck>;
  timeoutMs?: number;
}): Promise<{ status: 200 | 503; body: HealthBody }> {
  const body: HealthBody = {
    status: 'ok',
    service: options.service,
    version: options.version,
    pid: process.pid,
    uptimeMs: Math.round(performance.now() - options.startedAt),
  };
  const entries = Object.entries(options.checks ?? {});
  if (entries.length === 0) return { status: 200, body };

  const results = await Promise.all(
    entries.map(async ([name, check]) => [name, await runCheck(check, options.timeoutMs ?? CHECK_TIMEOUT_MS)] as const),
  );
  body.checks = Object.fromEntries(results);
  if (results.some(([, result]) => !result.ok)) body.status = 'degraded';
  return { status: body.status === 'ok' ? 200 : 503, body };
}
