/**
 * When a service counts as overloaded, and how often that is looked at: the admission bounds, from options or from
 * the environment. The defaults come from the saga benchmark on a 2-core machine (docs/admission-control.md):
 * below them, accepted sagas keep their latency; above them, new work only adds to the wait of the work before it.
 */

type Env = Record<string, string | undefined>;

export type AdmissionBounds = {
  /** A partition whose mailbox holds more than this many undelivered + pending entries refuses new work. */
  maxBacklog: number;
  /** A partition whose oldest undelivered entry is older than this (ms) refuses new work. */
  maxAgeMs: number;
  /** How often the backlog of a service in use is read (ms); one read serves every request meanwhile. */
  sampleMs: number;
  /**
   * A sample older than this (ms) says nothing any more (Redis does not answer the sampler): work is refused with a
   * 503, as it could not be queued either.
   */
  staleMs: number;
  /**
   * Where work is admitted by a holder that hears of its end (the gateway's orders: `in-flight-limit.ts`): the
   * latency (ms) the in-flight limit keeps the 90th percentile of that work under; 0 turns the limit off.
   */
  targetMs: number;
  /** The most work such a holder lets be in flight at once, however fast it ends. */
  maxInFlight: number;
};

/**
 * The saga bench peaks near 160 sagas/s here; a saga is ~8 of the order service's turns, so each of the shop's 2
 * partitions takes ~600 messages/s: 60 waiting is ~100 ms of its work, and a wait past 100 ms means it is behind.
 * (With 8 partitions, as the shop had until session 7, 15 was that bound: the age bound holds either way.) On an idle
 * host the bench has since peaked near 830/s, where 60 is ~20 ms of work and this bound refused most orders at
 * 1,000/s offered; 300, tried on a host then peaking near 460/s, gave fewer sagas a second (docs/admission-control.md).
 */
export const DEFAULT_ADMISSION_BOUNDS: AdmissionBounds = { maxBacklog: 60, maxAgeMs: 100, sampleMs: 50, staleMs: 2_000, targetMs: 150, maxInFlight: 1_000 };

function numberFromEnv(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name}=${raw} is not an integer between ${min} and ${max}`);
  return value;
}

/**
 * The bounds a process runs with: `MAILROOM_ADMISSION=off` turns admission control off (null); each bound has its
 * own `MAILROOM_ADMISSION_*` variable.
 *
 * @example
 * admissionBoundsFromEnv({ MAILROOM_ADMISSION_MAX_AGE_MS: '200' }); // { maxBacklog: 60, maxAgeMs: 200, … }
 * admissionBoundsFromEnv({ MAILROOM_ADMISSION: 'off' }); // null
 */
export function admissionBoundsFromEnv(env: Env = process.env): AdmissionBounds | null {
  const switched = (env.MAILROOM_ADMISSION ?? 'on').toLowerCase();
  if (switched === 'off' || switched === '0' || switched === 'false') return null;
  if (switched !== 'on' && switched !== '1' && switched !== 'true') throw new Error(`MAILROOM_ADMISSION=${env.MAILROOM_ADMISSION} is neither on nor off`);
  const d = DEFAULT_ADMISSION_BOUNDS;
  return {
    maxBacklog: numberFromEnv(env, 'MAILROOM_ADMISSION_MAX_BACKLOG', 1, 10_000_000) ?? d.maxBacklog,
    maxAgeMs: numberFromEnv(env, 'MAILROOM_ADMISSION_MAX_AGE_MS', 1, 3_600_000) ?? d.maxAgeMs,
    sampleMs: numberFromEnv(env, 'MAILROOM_ADMISSION_SAMPLE_MS', 10, 10_000) ?? d.sampleMs,
    staleMs: numberFromEnv(env, 'MAILROOM_ADMISSION_STALE_MS', 100, 3_600_000) ?? d.staleMs,
    targetMs: numberFromEnv(env, 'MAILROOM_ADMISSION_TARGET_MS', 0, 3_600_000) ?? d.targetMs,
    maxInFlight: numberFromEnv(env, 'MAILROOM_ADMISSION_MAX_IN_FLIGHT', 1, 10_000_000) ?? d.maxInFlight,
  };
}
