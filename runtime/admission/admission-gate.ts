/**
 * Admission control: new work is refused at the door while a service it would queue for is too far behind —
 * more entries waiting in one partition's mailbox than `maxBacklog`, or the oldest of them waiting longer than
 * `maxAgeMs`. Accepting it then only lengthens every queue it joins (the saga benchmark at twice its peak rate
 * showed waits of tens of seconds, with every order accepted and Redis growing). The check reads the sampler's
 * last reading, so a refusal costs a lookup and no Redis call, and it runs before anything is written.
 */
import { admissionRefusedTotal } from '../observe/metrics.ts';
import type { AdmissionBounds } from './admission-bounds.ts';
import { AdmissionRefusedError, type AdmissionReason } from './admission-refused-error.ts';
import type { BacklogSampler } from './backlog-sampler.ts';

/** Retry-After is whole seconds: at least one, and never more than this. */
const MAX_RETRY_AFTER_MS = 30_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export class AdmissionGate {
  private readonly refusals = new Map<string, { inc(): void }>();

  constructor(
    private readonly sampler: BacklogSampler,
    readonly bounds: AdmissionBounds,
  ) {}

  /**
   * The refusal for work that would queue for `services`, or null when it may go ahead. Counts each refusal in
   * `mailroom_admission_refused_total{service, reason}`.
   *
   * @example
   * const refusal = gate.check(['order', 'inventory']);
   * if (refusal) throw refusal; // 429 OVERLOADED with retryAfterMs
   */
  check(services: readonly string[]): AdmissionRefusedError | null {
    for (const service of services) {
      const refusal = this.checkOne(service);
      if (refusal) {
        this.count(service, refusal.reason);
        return refusal;
      }
    }
    return null;
  }

  /** Throws the refusal, if any (see `check`). */
  admit(services: readonly string[]): void {
    const refusal = this.check(services);
    if (refusal) throw refusal;
  }

  private checkOne(service: string): AdmissionRefusedError | null {
    const { maxBacklog, maxAgeMs, staleMs } = this.bounds;
    const reading = this.sampler.reading(service);
    if (reading.sinceGoodMs > staleMs) {
      const why = reading.error ? `: ${reading.error}` : '';
      return new AdmissionRefusedError(
        service,
        'unsampled',
        1_000,
        `${service}'s mailboxes could not be read for ${seconds(reading.sinceGoodMs)} (Redis does not answer${why}), so new work could not be queued either; nothing was done, retry in 1 s`,
        { sinceGoodMs: Math.round(reading.sinceGoodMs) },
      );
    }
    const b = reading.backlog;
    if (!b) return null;
    let reason: AdmissionReason | null = null;
    if (b.backlog > maxBacklog) reason = 'backlog';
    else if (b.oldestAgeMs > maxAgeMs) reason = 'age';
    if (!reason) return null;
    // The oldest waiting message says how far behind the service is: come back once that much has passed.
    const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, Math.max(1_000, Math.ceil(b.oldestAgeMs / 1000) * 1000));
    const detail =
      reason === 'backlog'
        ? `${b.backlog} messages wait in one of its mailboxes (partition ${b.backlogPartition}; the bound is ${maxBacklog})`
        : `the oldest message in its mailboxes has waited ${seconds(b.oldestAgeMs)} (partition ${b.oldestPartition}; the bound is ${maxAgeMs} ms)`;
    return new AdmissionRefusedError(service, reason, retryAfterMs, `${service} is overloaded: ${detail}; nothing was done, retry in ${Math.round(retryAfterMs / 1000)} s`, {
      backlog: b.backlog,
      maxBacklog,
      oldestAgeMs: Math.round(b.oldestAgeMs),
      maxAgeMs,
    });
  }

  private count(service: string, reason: AdmissionReason): void {
    const key = `${service}\u0000${reason}`;
    let child = this.refusals.get(key);
    if (!child) this.refusals.set(key, (child = admissionRefusedTotal.labels(service, reason)));
    child.inc();
  }
}
