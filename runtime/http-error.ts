/**
 * The one error type that reaches HTTP on purpose. A handler throws `HttpError` when a request cannot be served
 * for a reason the caller can act on; the service frame turns it into `{ code, message, details? }` with its status.
 * Anything else thrown is a bug and becomes a logged 500 `INTERNAL` (see `error-response.ts`).
 */

/**
 * The JSON body of every error response: a literal code for programs, a message for people, and `details`, always
 * an object of named facts (`{ orderId }`, `{ dependency, retryAfterMs }`; a validation failure's are
 * `{ issues: [{ path, message }] }`).
 */
export type ErrorBody = {
  code: string;
  message: string;
  details?: Record<string, unknown>;
};

/** One field a request got wrong: `body.lines.0.qty`, and a sentence about it. */
export type ValidationIssue = { path: string; message: string };

/**
 * An error with an HTTP status and a stable, literal code (as elysia's `src/error.ts` errors carry).
 *
 * @example
 * throw new HttpError(409, 'OUT_OF_STOCK', 'sku ABC-1 has 2 left, 5 asked', { sku: 'ABC-1', left: 2 });
 */
export class HttpError<const Code extends string = string> extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: Code,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The response body, without status: what the caller sees. */
  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * The 422 `VALIDATION` a route throws for a field its schema could not check, shaped as the frame's own.
 *
 * @example
 * throw validationError('query.limit', 'query.limit is invalid: expected 1–100, got 0');
 */
export function validationError(path: string, message: string): HttpError<'VALIDATION'> {
  return new HttpError(422, 'VALIDATION', message, { issues: [{ path, message }] });
}
