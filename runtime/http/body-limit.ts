/**
 * Request bodies are read by the service frame itself, with a size cap, instead of by Elysia's default parsers: a
 * declared `Content-Length` over the cap is refused before anything is read, and a body that turns out bigger than
 * it says (or is chunked) is cut off at the cap. Either way the caller gets a 413, a body that is not the JSON
 * it claims to be gets a 400 naming the problem, and a body of any other content type a 415: every Mailroom route
 * takes JSON, and reading a form or text as if it were would answer "Expected object" about a body the caller never
 * meant as one.
 */
import { HttpError } from '../http-error.ts';

/** The default cap on a request body: 64 KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

function tooLarge(limit: number, size?: number): HttpError<'PAYLOAD_TOO_LARGE'> {
  const said = size === undefined ? 'more than that' : `${size} bytes`;
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body too large: ${said}, the limit is ${limit} bytes`, {
    limit,
  });
}

/**
 * A 413 error if the request declares a body over `limit`, else undefined. Runs before routing.
 *
 * @example
 * const error = declaredSizeError(request, 64 * 1024); // HttpError 413 for Content-Length: 70000
 */
export function declaredSizeError(request: Request, limit: number): HttpError | undefined {
  const header = request.headers.get('content-length');
  if (header === null) return undefined;
  const size = Number(header);
  return Number.isFinite(size) && size > limit ? tooLarge(limit, size) : undefined;
}

/**
 * Reads the whole body, stopping (and throwing a 413 `HttpError`) as soon as it passes `limit` bytes.
 *
 * @example
 * const bytes = await readBodyWithin(request, 64 * 1024);
 */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (request.body === null) return new Uint8Array(0);
  // A declared length within the cap frames the body (HTTP/1.1 reads that many bytes and no more; one over the cap
  // was refused before routing, by `declaredSizeError`), so Bun may read it whole, natively: a stream reader's
  // chunks cost ~3 % of a busy service's CPU in JS. Not beside a Transfer-Encoding (Bun refuses the two together
  // today: `tests/fuzz/request-framing.test.ts`).
  const declared = request.headers.get('content-length');
  if (declared !== null && request.headers.get('transfer-encoding') === null && Number(declared) <= limit) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    // A Request built in-process carries whatever header it was given, and its body regardless (one that declares
    // less than it streams is read whole before this 413: only the runtime's own code and tests build them).
    if (bytes.byteLength > limit) throw tooLarge(limit, bytes.byteLength);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** How deep a JSON body may nest. The shop's deepest body nests 3 levels; nothing legitimate comes near. */
export const MAX_JSON_DEPTH = 64;

/**
 * Lets any parsed object be turned into text. JSON can give an object its own `toString` or `valueOf` that is not a
 * function (`{"toString": 1}`); converting such an object to a string throws a TypeError, and Elysia does exactly
 * that when it words a validation failure, so the caller would get a 500. A JSON key can never be a symbol, so a
 * prototype carrying `Symbol.toPrimitive` (which conversion consults first) restores the conversion without
 * changing a single key or value the handler sees.
 */
const PRINTABLE = Object.create(Object.prototype, {
  [Symbol.toPrimitive]: { value: () => '[object Object]' },
}) as object;

/**
 * The parsed body, checked and made safe to validate: no deeper than `MAX_JSON_DEPTH` (Elysia words a validation
 * failure by printing the whole value, which costs time quadratic in its depth — a 40 KiB body of nested objects
 * held the event loop for a second — and overflows the stack on nested arrays), and every object printable.
 * Walks the value once, without recursion.
 */
function tamed(value: unknown): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) {
      throw new HttpError(422, 'BODY_TOO_DEEP', `request body nests deeper than ${MAX_JSON_DEPTH} levels; send a flatter body`, { maxDepth: MAX_JSON_DEPTH });
    }
    if (!Array.isArray(node) && (Object.hasOwn(node, 'toString') || Object.hasOwn(node, 'valueOf'))) Object.setPrototypeOf(node, PRINTABLE);
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return value;
}

/** The only request content type: JSON (`application/json`, or any `+json` type, e.g. `application/merge-patch+json`). */
export function isJsonType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Parses a JSON body within the size cap (400 `MALFORMED_JSON` if it is not JSON; 415 `UNSUPPORTED_MEDIA_TYPE` for
 * any other content type, or none). An empty body is `undefined`, so a route that needs one reports it missing.
 *
 * @example
 * app.onParse(({ request, contentType }) => parseBodyWithin(request, contentType, 64 * 1024));
 */
export async function parseBodyWithin(request: Request, contentType: string, limit: number): Promise<unknown> {
  const bytes = await readBodyWithin(request, limit);
  if (bytes.byteLength === 0) return undefined;
  if (!isJsonType(contentType)) {
    const sent = contentType.trim() === '' ? 'no Content-Type' : `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`;
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `the request body came with ${sent}; send JSON with Content-Type: application/json`, {
      contentType: contentType.slice(0, 100),
      accepted: ['application/json'],
    });
  }
  const text = new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, 'MALFORMED_JSON', `request body is not valid JSON: ${reason}`);
  }
  const body = tamed(value);
  if (SURROGATE_ESCAPE.test(text)) refuseLoneSurrogates(body);
  return body;
}

/**
 * A `\uD800`–`\uDFFF` escape: the only way a body's text can hold a lone surrogate (its UTF-8 bytes cannot: the
 * decoder turns them into U+FFFD). A match is only a hint — `\ud83d\ude00` is a well-formed pair — that the parsed
 * value is worth walking.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Refuses a body (already no deeper than `MAX_JSON_DEPTH`) with a string, value or key, that is not well-formed
 * Unicode: a lone surrogate such as `"\udfff"`. JSON's grammar lets one through, but I-JSON (RFC 7493) forbids it,
 * and nothing downstream can keep it: Redis's Lua `cjson` refuses its escape (a 500 from every script that decodes
 * what a handler sent it — the bad-input barrage found one in the payment provider), and UTF-8 has no bytes for it,
 * so a key stored as text would turn into U+FFFD and collide with every other such key.
 */
function refuseLoneSurrogates(value: unknown): void {
  const stack: [unknown, string][] = [[value, 'body']];
  const refuse = (path: string, text: string, inKey = false): never => {
    // The first lone surrogate is where the string and its well-formed copy (each one made U+FFFD) first differ.
    const wellFormed = text.toWellFormed();
    let at = 0;
    while (text.charCodeAt(at) === wellFormed.charCodeAt(at)) at++;
    const unit = `\\u${text.charCodeAt(at).toString(16)}`;
    const where = inKey ? `a key of ${path}` : path;
    throw new HttpError(400, 'MALFORMED_JSON', `request body is not well-formed Unicode: ${where} holds a lone surrogate (${unit}); escape a character outside the Basic Multilingual Plane as a high-low pair, or send it as UTF-8`, {
      path,
      in: inKey ? 'key' : 'value',
    });
  };
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'string') {
      if (!node.isWellFormed()) refuse(path, node);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (!key.isWellFormed()) refuse(path, key, true);
        stack.push([child, Array.isArray(node) ? `${path}[${key}]` : `${path}.${key}`]);
      }
    }
  }
}
