/**
 * The answer to work refused at the door: 429 `OVERLOADED` when a service is too far behind to take more (the
 * system is shedding load), 503 `DEPENDENCY_UNAVAILABLE` when its backlog cannot be read at all (Redis does not
 * answer, so the work could not be queued either). Both say when to come back; the frame turns `retryAfterMs` into
 * a `Retry-After` header. Nothing of the refused request was done.
 */
import { HttpError } from '../http-error.ts';

export type AdmissionReason = 'backlog' | 'age' | 'in-flight' | 'unsampled';

/**
 * @example
 * try { gate.admit(['order']); } catch (error) {
 *   if (error instanceof AdmissionRefusedError) console.log(error.status, error.retryAfterMs); // 429 1000
 * }
 */
export class AdmissionRefusedError extends HttpError<'OVERLOADED' | 'DEPENDENCY_UNAVAILABLE'> {
  constructor(
    readonly service: string,
    readonly reason: AdmissionReason,
    readonly retryAfterMs: number,
    message: string,
    facts: Record<string, unknown>,
  ) {
    super(reason === 'unsampled' ? 503 : 429, reason === 'unsampled' ? 'DEPENDENCY_UNAVAILABLE' : 'OVERLOADED', message, { service, reason, retryAfterMs, ...facts });
  }
}
