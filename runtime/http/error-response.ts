/**
 * Turns whatever went wrong while serving a request into one JSON error response `{ code, message, details? }`:
 * a validation failure names the field that failed, malformed JSON is a 400, an unknown route a 404, an `HttpError`
 * keeps its own status and code, and anything else is a 500 `INTERNAL` whose stack goes to the log, never to the
 * caller.
 */
import { ValidationError } from 'elysia';
import { HttpError, type ErrorBody, type ValidationIssue } from '../http-error.ts';

/** Logs one unexpected error once; the service frame passes `console.error` with the service name. */
export type ErrorLogger = (line: string, error: unknown) => void;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

/**
 * A JSON response carrying an error body.
 *
 * @example
 * errorResponse(409, { code: 'OUT_OF_STOCK', message: 'sku ABC-1 has 2 left' });
 * errorResponse(429, { code: 'OVERLOADED', message: 'order is overloaded; retry in 1 s' }, 1_000); // Retry-After: 1
 */
export function errorResponse(status: number, body: ErrorBody, retryAfterMs?: number): Response {
  const headers = retryAfterMs === undefined ? JSON_HEADERS : { ...JSON_HEADERS, 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return new Response(JSON.stringify(body), { status, headers });
}

/** An error's `retryAfterMs` (when it says when to come back), for the `Retry-After` header. */
function retryAfterOf(error: HttpError): number | undefined {
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

type Issue = ValidationIssue;

/** `/items/0` under `body` → `body.items.0`; the root is just `body`. */
function fieldName(type: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [type, ...parts].join('.');
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const raw of pointer.split('/').filter((p) => p !== '')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

type SchemaLike = {
  anyOf?: SchemaLike[];
  const?: unknown;
  type?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

/** "a number between 1 and 100", "an integer ≥ 0": what the schema's bounds allow. */
function numberWanted(options: SchemaLike[]): string {
  const numeric = options.filter((o) => o.type === 'number' || o.type === 'integer');
  const kind = numeric.some((o) => o.type === 'integer') ? 'an integer' : 'a number';
  const min = numeric.map((o) => o.minimum ?? o.exclusiveMinimum).find((v) => v !== undefined);
  const max = numeric.map((o) => o.maximum ?? o.exclusiveMaximum).find((v) => v !== undefined);
  if (min !== undefined && max !== undefined) return `${kind} between ${min} and ${max}`;
  if (min !== undefined) return `${kind} ≥ ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

/** TypeBox says "Expected union value" for enums and numeric strings; say what would have been accepted. */
function expectation(e: { message: string; schema?: unknown }): string {
  const options = (e.schema as SchemaLike | undefined)?.anyOf;
  if (!options) return e.message;
  if (options.every((o) => o.const !== undefined)) {
    return `expected one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}`;
  }
  if (options.some((o) => o.format === 'numeric' || o.type === 'number' || o.type === 'integer')) {
    return `expected ${numberWanted(options)}`;
  }
  return e.message;
}

/** One readable line per failing field: "body.items is required", "query.limit is invalid: Expected number". */
function validationIssues(error: ValidationError): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const e of error.all) {
    const pointer = typeof e.path === 'string' ? e.path : '';
    const path = fieldName(error.type, pointer);
    if (seen.has(path)) continue;
    seen.add(path);
    const missing = valueAt(error.value, pointer) === undefined;
    issues.push({ path, message: missing ? `${path} is required` : `${path} is invalid: ${expectation(e)}` });
  }
  if (issues.length === 0) issues.push({ path: error.type, message: `${error.type} is invalid` });
  return issues;
}

function hasStatus(error: unknown): error is { status: number; message?: unknown } {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600;
}

/**
 * The response for an error Elysia reports through `onError` (`code` is Elysia's classification).
 *
 * @example
 * app.onError(({ code, error, request }) => toErrorResponse(code, error, request, (line) => console.error(line)));
 */
export function toErrorResponse(code: string | number, error: unknown, request: Request, log: ErrorLogger): Response {
  // An error that says when to come back (a refusal at the door, a dependency's breaker) says it in Retry-After too.
  if (error instanceof HttpError) return errorResponse(error.status, error.toBody(), retryAfterOf(error));
  // Elysia wraps whatever a parser throws in a ParseError; ours throws HttpErrors (413, malformed JSON).
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (code === 'PARSE' && cause instanceof HttpError) return errorResponse(cause.status, cause.toBody());

  if (error instanceof ValidationError && error.type !== 'response') {
    const issues = validationIssues(error);
    return errorResponse(422, {
      code: 'VALIDATION',
      message: issues.map((i) => i.message).join('; '),
      details: { issues },
    });
  }

  if (error instanceof ValidationError && error.type === 'response') {
    // Our own bug: the handler answered something its schema does not allow. Never echo the schema or the values.
    const path = new URL(request.url).pathname;
    log(`${request.method} ${path} answered outside its response schema: ${error.message.slice(0, 2_000)}`, error);
    return errorResponse(500, { code: 'INTERNAL', message: 'internal error; the service logged the details' });
  }

  if (code === 'NOT_FOUND') {
    const path = new URL(request.url).pathname;
    return errorResponse(404, { code: 'NOT_FOUND', message: `no route for ${request.method} ${path}` });
  }
  if (code === 'PARSE') {
    return errorResponse(400, { code: 'MALFORMED_BODY', message: 'the request body could not be parsed' });
  }
  if (code === 'INVALID_COOKIE_SIGNATURE') {
    return errorResponse(400, { code: 'INVALID_COOKIE', message: 'a signed cookie does not match its signature' });
  }
  // Errors that already carry a client-side status (e.g. Elysia's InvalidFileType) keep it, with their message.
  if (hasStatus(error) && error.status < 500 && code !== 'UNKNOWN') {
    return errorResponse(error.status, { code: String(code), message: String(error.message ?? code) });
  }

  // A bug or an unexpected failure (including a response that does not match its own schema): log it once with
  // its stack, answer without one.
  const path = new URL(request.url).pathname;
  log(`${request.method} ${path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, error);
  return errorResponse(500, { code: 'INTERNAL', message: 'internal error; the service logged the details' });
}
