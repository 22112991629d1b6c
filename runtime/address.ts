/**
 * Actor addresses: `service/type/id`, e.g. `inventory/sku/ABC-1`. The id may itself contain slashes; service and
 * type may not. The partition an actor lives in is a stable hash of its whole address.
 */

export type Address = `${string}/${string}/${string}`;

export type ParsedAddress = { service: string; type: string; id: string };

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export class InvalidAddressError extends Error {
  readonly code = 'INVALID_ADDRESS';
  constructor(address: string, why: string) {
    super(`invalid actor address "${address}": ${why} (expected service/type/id)`);
  }
}

/**
 * Splits an address into its parts, or throws an `InvalidAddressError` saying what is wrong.
 *
 * @example
 * parseAddress('inventory/sku/ABC-1'); // { service: 'inventory', type: 'sku', id: 'ABC-1' }
 */
export function parseAddress(address: string): ParsedAddress {
  const a = address.indexOf('/');
  const b = a < 0 ? -1 : address.indexOf('/', a + 1);
  if (a < 0 || b < 0) throw new InvalidAddressError(address, 'it needs three parts');
  const service = address.slice(0, a);
  const type = address.slice(a + 1, b);
  const id = address.slice(b + 1);
  if (!NAME.test(service)) throw new InvalidAddressError(address, `service "${service}" must be lower-case letters, digits and dashes`);
  if (!NAME.test(type)) throw new InvalidAddressError(address, `type "${type}" must be lower-case letters, digits and dashes`);
  if (id.length === 0 || id.length > 200) throw new InvalidAddressError(address, 'the id must be 1–200 characters');
  return { service, type, id };
}

/**
 * Whether `value` is an address a message can be sent to. An actor checks a `replyTo` it was handed before it
 * `tell`s it: a malformed address reaching `tell` would fail the whole batch's commit.
 *
 * @example
 * isAddress('order/order/o-1'); // true
 * isAddress('nowhere'); // false
 */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    parseAddress(value);
    return true;
  } catch {
    return false;
  }
}

/** @example formatAddress('inventory', 'sku', 'ABC-1') // 'inventory/sku/ABC-1' */
export function formatAddress(service: string, type: string, id: string): Address {
  return `${service}/${type}/${id}`;
}

/**
 * 32-bit FNV-1a over the UTF-16 code units, finished with murmur3's avalanche step (plain FNV-1a barely mixes
 * the last characters, so similar names would rank alike). Stable across processes and versions.
 */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The partition of an address among `partitions`.
 *
 * @example
 * partitionOf('inventory/sku/ABC-1', 8); // a number in 0..7, the same in every process
 */
export function partitionOf(address: string, partitions: number): number {
  return stableHash(address) % partitions;
}
