/**
 * The hostile inputs of the bad-input barrage, as fast-check arbitraries: strings a careless handler could choke on
 * (injection shapes, Redis protocol and Lua fragments, path traversal, RTL and zero-width characters, emoji, lone
 * surrogates, NaN-like text, lengths on both sides of every field limit and of the 64 KiB body cap), numbers JSON
 * can and cannot carry, deep nesting, and mutations of a valid value (a field dropped, retyped, replaced or added),
 * so most samples are rejected by validation and a few reach the handlers. Generation is cheap on purpose: long
 * strings are repeats, not random text.
 */
import fc from 'fast-check';

/** Strings that have broken parsers, templates, queries, key builders and logs somewhere. */
export const NASTY_STRINGS: readonly string[] = [
  "' OR 1=1 --",
  '" OR ""="',
  "'; DROP TABLE orders; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '${7*7}',
  '{{7*7}}',
  '#{7*7}',
  '%s%s%s%n',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '\r\n*3\r\n$3\r\nDEL\r\n$1\r\nx\r\n',
  '*1\r\n$8\r\nFLUSHALL\r\n',
  "redis.call('FLUSHALL')",
  "'); redis.call('FLUSHALL'); --",
  ']]..redis.call("DEL", KEYS[1])..[[',
  'mr:{order:0}:mbox',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-0',
  '0x1F',
  '1_000',
  '１２３',
  '',
  ' ',
  '\t',
  '\n',
  '\u0000',
  'a\u0000b',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '\u202Egnp.exe',
  'שלום עולם',
  'مرحبا بالعالم',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u2028\u2029',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\uD800',
  '\uDFFF',
  'a\uD83Db',
  'e\u0301\u0301\u0301',
  'Ｇ\u0042',
  'İı',
  '*',
  '?',
  '#',
  '%',
  '%%',
  '%E0%A4%A',
  '\\',
  '/',
  'a/b/c',
  'order/order/x',
  'GB',
  'gb',
  'ZZ',
  'BOX-M',
  'box-m',
];

/** Lengths just under and over the limits the schemas declare (ids 64/128, names 100, lines 200, email 254). */
const LIMIT_LENGTHS = [1, 2, 31, 32, 33, 63, 64, 65, 99, 100, 101, 127, 128, 129, 199, 200, 201, 253, 254, 255, 256, 1_000, 4_096];

/** Strings far longer than any field, near and over the 64 KiB body cap. */
const HUGE_LENGTHS = [16_000, 65_000, 65_536, 70_000];

const repeatTo = (unit: string, length: number) => unit.repeat(Math.ceil(length / Math.max(1, unit.length))).slice(0, length);

/** A string of a length near a field limit, made of one repeated unit (cheap to generate). */
export const limitString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...LIMIT_LENGTHS), fc.constantFrom('a', 'A', '9', '-', 'é', '😀', ' ', '\u200B', 'a\u0000'))
  .map(([length, unit]) => repeatTo(unit, length));

/** A string past every field limit, some past the body cap (those requests must be refused with 413). */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...HUGE_LENGTHS), fc.constantFrom('a', 'é', '<', '\\'))
  .map(([length, unit]) => repeatTo(unit, length));

/** A string with a lone surrogate spliced in (JSON.stringify escapes it; UTF-8 encoders replace it). */
export const loneSurrogateString: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 8 }))
  .map(([a, code, b]) => `${a}${String.fromCharCode(code)}${b}`);

/** Every kind of hostile string, with short random text in every Unicode plane. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 24 }) },
  { weight: 1, arbitrary: loneSurrogateString },
  { weight: 2, arbitrary: limitString },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.constantFrom(...NASTY_STRINGS)).map(([a, b]) => a + b) },
);

/** Numbers a JSON body can carry that a handler might not expect. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, -0.5, 0.1 + 0.2, 999.999, 1e21, -1e21, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1_000_000_001, 100_001, 1_001),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/**
 * Number literals JSON.stringify cannot produce: overflowing, negative zero, leading zeros, huge integers. Spliced
 * into a body's text where a `RawLiteral` stands (see `toJsonText`).
 */
export const RAW_NUMBER_LITERALS = ['1e400', '-1e400', '-0', '0.0', '1.0', '1E2', '00012', '123456789012345678901234567890', '1e-400', '0.00000000000000000000001'];

const RAW_MARK = '\u0000raw\u0000';

/** A stand-in that `toJsonText` replaces with raw text (invalid or unusual JSON inside an otherwise valid body). */
export class RawLiteral {
  constructor(readonly text: string) {}

  /** JSON.stringify writes a marked string here (natively, no replacer), which `toJsonText` swaps for the text. */
  toJSON(): string {
    return `${RAW_MARK}${this.text}${RAW_MARK}`;
  }
}

/** Deeply nested arrays or objects (1 to 5,000 levels; a little text per level). */
export const deepValue: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 1, max: 5_000 }), fc.boolean())
  .map(([depth, objects]) => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
    return value;
  });

/** Objects that try to pollute a prototype when a handler merges or spreads them. */
export const pollutingObject: fc.Arbitrary<unknown> = fc.constantFrom(
  new RawLiteral('{"__proto__":{"polluted":"yes"}}'),
  new RawLiteral('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  { __proto__: null, toString: 'x', valueOf: 1, hasOwnProperty: 'no' } as unknown,
);

/** Any JSON value with hostile leaves, shallow (the deep ones come from `deepValue`). */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: nastyString },
    { weight: 3, arbitrary: nastyNumber },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_NUMBER_LITERALS).map((t) => new RawLiteral(t)) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }) },
  ),
})).value;

/** Any hostile replacement for one field: a wrong type, a hostile string, a huge or deep value. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: nastyJson },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: pollutingObject },
  { weight: 1, arbitrary: hugeString },
);

/**
 * JSON text for a value, with every `RawLiteral` replaced by its raw text (so a body can carry `1e400` or a
 * `__proto__` key that JSON.stringify would never write).
 */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  if (!text.includes('\\u0000raw\\u0000')) return text;
  // Each marked string, JSON-escaped, back to the raw text it stands for.
  return text.replace(/"\\u0000raw\\u0000(?:[^"\\]|\\.)*?\\u0000raw\\u0000"/g, (literal) => (JSON.parse(literal) as string).slice(RAW_MARK.length, -RAW_MARK.length));
}

type Path = (string | number)[];

/** Every path to a value inside `root` (the root itself is `[]`). */
function pathsOf(root: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(root)) root.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (root !== null && typeof root === 'object' && !(root instanceof RawLiteral)) {
    for (const [k, v] of Object.entries(root)) pathsOf(v, [...prefix, k], out);
  }
  return out;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** `root` with the value at `path` replaced (or removed, for `undefined`); the root path replaces everything. */
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = clone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = value;
  return copy;
}

/**
 * A valid value changed in one place: a field removed, replaced by a hostile value, given an extra unknown key,
 * wrapped in an array, or the whole value swapped for a hostile one.
 *
 * @example
 * fc.sample(mutationOf({ qty: 1 }), 3); // e.g. [{}, { qty: '1e400' }, { qty: 1, '__proto__': … }]
 */
export function mutationOf(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const at = fc.nat({ max: paths.length - 1 }).map((i) => paths[i]!);
  return fc.oneof(
    { weight: 3, arbitrary: at.map((path) => (path.length === 0 ? {} : setAt(valid, path, undefined))) },
    { weight: 8, arbitrary: fc.tuple(at, nastyValue).map(([path, v]) => setAt(valid, path, v)) },
    {
      weight: 1,
      arbitrary: fc.tuple(at, nastyString, nastyJson).map(([path, key, v]) => {
        const copy = clone(valid) as Record<string, unknown>;
        const target = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], copy);
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[key] = v;
        return copy;
      }),
    },
    { weight: 1, arbitrary: at.map((path) => setAt(valid, path, [path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], valid)])) },
  );
}

/** A hostile value for a path parameter, as the raw text to put in the URL (encoded or not). */
export const nastyParam: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: nastyString.filter((s) => s.length > 0).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '..%2F..', '%2e%2e', '.', '..', 'a%2Fb', '%C0%AF', '%uD800') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '-', '_', '.', ':', '~', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '@'), minLength: 1, maxLength: 140 }) },
);

/** URL-encodes a string that may hold lone surrogates (encodeURIComponent throws on them). */
export function encodeLoosely(text: string): string {
  return encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
}

/** A hostile query string (without the `?`): unknown and repeated keys, bracket syntax, bad encodings. */
export const nastyQuery = (knownKeys: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...knownKeys, 'x'), nastyString), fc.oneof(nastyString, nastyNumber.map(String))), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${encodeLoosely(k)}=${encodeLoosely(v)}`).join('&')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...knownKeys.flatMap((k) => [`${k}`, `${k}=`, `${k}[]=1`, `${k}[a]=1`, `${k}=1&${k}=2`, `${k}=%`, `${k}=%E0%A4%A`, `${k}=-1`, `${k}=1e400`, `${k}=0x10`]),
        '&&&',
        '=',
        '%',
        '__proto__[polluted]=yes',
        'constructor[prototype][polluted]=yes',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[#\s]/g, '')) },
  );

/** Header values a client can actually send (visible Latin-1, spaces and tabs), hostile ones first. */
export const nastyHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'x', "' OR 1=1 --", '<script>', '${x}', '../../etc/passwd', 'a'.repeat(129), 'a'.repeat(8_000), 'é', '\u00ff\u00fe', 'NaN', '\tpadded\t'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 140 }),
);
