/**
 * The route's answer when an actor does not answer in time: a request that asks an actor (or waits for its state)
 * and gets no answer within its timeout is not a failure of the request — the message stays queued and may still
 * apply — so it answers 503 with a code and a sentence saying what to do next, not the ask's own 504 error.
 */
import { AskTimeoutError } from '../node/asks.ts';
import { HttpError } from '../http-error.ts';

/** What a 503 says: the service's literal code, a message a person can act on, and named facts. */
export type Unavailable = { code: string; message: string; details?: Record<string, unknown> };

/**
 * Runs `work` (an ask, a `waitFor`, …); an `AskTimeoutError` becomes a 503 `HttpError` as `unavailable` words it.
 * Every other error passes through unchanged.
 *
 * @example
 * const result = await unavailableOnTimeout(
 *   () => node.ask(address, event, { timeoutMs: 5_000 }),
 *   () => ({ code: 'ORDER_UNAVAILABLE', message: `the order did not answer within 5000 ms; retry shortly` }),
 * );
 */
export async function unavailableOnTimeout<T>(work: () => Promise<T>, unavailable: (timeout: AskTimeoutError) => Unavailable): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AskTimeoutError)) throw error;
    const { code, message, details } = unavailable(error);
    throw new HttpError(503, code, message, details);
  }
}
