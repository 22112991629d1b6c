import { describe, expect, it } from 'bun:test';
import { Batch, compareStreamIds } from '../../runtime/node/batch.ts';

/** Redis's own order of stream ids, for reference: by milliseconds, then sequence, each a 64-bit number. */
const reference = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
};

describe('compareStreamIds', () => {
  it('should order ids as Redis does, whatever the lengths of their parts and past 2^53 (no parsing to a float)', () => {
    const parts = ['0', '1', '9', '10', '99', '100', '1733300000000', '1733300000001', '999999999999', '18446744073709551614', '18446744073709551615'];
    const ids = parts.flatMap((ms) => parts.map((seq) => `${ms}-${seq}`));
    for (const a of ids) for (const b of ids) expect([a, b, Math.sign(compareStreamIds(a, b))]).toEqual([a, b, reference(a, b)]);
  });
});

describe('Batch.acksAllUndelivered', () => {
  /** A batch whose read took `count` new entries from `first` on, and that acks `acks`. */
  const batch = (count: number, first: string, acks: string[]) => {
    const b = new Batch();
    b.undelivered = ['c', count, first, '9-9', '0-0'];
    b.acks = acks;
    return b.acksAllUndelivered();
  };

  it('should count the distinct acks from the first new entry on, in or out of order, an ack given twice once', () => {
    expect(batch(3, '5-0', ['4-0', '5-0', '5-1', '6-0'])).toBe(true);
    expect(batch(3, '5-0', ['5-0', '5-1'])).toBe(false);
    // acked twice, one never: as many acks as entries, but not all of them
    expect(batch(3, '5-0', ['5-0', '5-1', '5-1'])).toBe(false);
    expect(batch(3, '5-0', ['5-1', '5-0', '5-1'])).toBe(false);
    expect(batch(3, '5-0', ['6-0', '5-0', '5-1'])).toBe(true);
  });
});
