/**
 * How long the supervisor waits before restarting a process that died: exponential, from `initialMs` doubling up to
 * `maxMs`, and back to `initialMs` once the process had stayed healthy for `stableAfterMs` — so a process that
 * crashes at start is not restarted in a tight loop, and one that crashes once a day restarts at once.
 */

export type BackoffPolicy = {
  initialMs: number;
  maxMs: number;
  /** Healthy this long before dying: the next restart starts from `initialMs` again. */
  stableAfterMs: number;
};

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, stableAfterMs: 10_000 };

/**
 * The delay before restart number `attempt` (0-based count of restarts since the process was last stable).
 *
 * @example
 * restartDelay(DEFAULT_BACKOFF, 0); // 250
 * restartDelay(DEFAULT_BACKOFF, 3); // 2000
 * restartDelay(DEFAULT_BACKOFF, 9); // 10000
 */
export function restartDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, Math.min(attempt, 30)));
}

/**
 * The restart delays of one process, in order: each death asks for the next delay, and a death after a stable run
 * starts the sequence over.
 *
 * @example
 * const backoff = new RestartBackoff(DEFAULT_BACKOFF);
 * backoff.next(undefined); // 250 — died before getting healthy
 * backoff.next(undefined); // 500
 * backoff.next(60_000); // 250 — it had run fine for a minute
 */
export class RestartBackoff {
  private attempt = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** The delay before the next restart, given how long the process had been healthy (undefined: never). */
  next(healthyForMs: number | undefined): number {
    if (healthyForMs !== undefined && healthyForMs >= this.policy.stableAfterMs) this.attempt = 0;
    return restartDelay(this.policy, this.attempt++);
  }
}
