/**
 * Malformed entries written straight into a partition's mailbox stream (XADD, as a bug, an old version or an
 * intruder with Redis access might): missing fields, bad JSON, events that are not events, unknown actor types,
 * another service's or another partition's addresses, malformed reply-tos, huge payloads and binary. Each must end in
 * the partition's dead letters with a reason naming what is wrong, and the partition must keep flowing: the
 * well-formed entries around them are applied, in order, and nothing stays pending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { createClient } from 'redis';
import { createNode, parseAddress, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { nastyJson, nastyString, toJsonText } from './arbitraries.ts';

const SERVICE = 'svc';
const PARTITIONS = 2;
const RUNS = Number(process.env.FUZZ_MAILBOX_RUNS ?? 200);

const prefix = testPrefix('mailbox-fuzz');
const redis = createClient({ url: SHARED_REDIS });
const loopErrors: string[] = [];
let node: MailroomNode;

beforeAll(async () => {
  await redis.connect();
  node = await createNode({
    service: SERVICE,
    actors: [counter],
    keyPrefix: prefix,
    redis: SHARED_REDIS,
    partitions: PARTITIONS,
    maxDeliveries: 2,
    retryBaseMs: 5,
    // A step that throws is expected here and there; a partition loop that throws is the failure this test hunts.
    onError: (error, where) => {
      if (where.startsWith('partition')) loopErrors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
});
afterAll(async () => {
  await node?.stop();
  await redis.quit();
  await cleanupPrefix(prefix);
});

type Field = string | Buffer;
/** A malformed entry and what its dead letter must say. */
type Bad = { kind: string; fields: Record<string, Field>; reason: RegExp };

let serial = 0;
const mid = () => `bad-${process.pid}-${serial++}`;
const goodEvent = JSON.stringify({ type: 'inc' });
const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** An id of a counter that lives in `partition`. */
function idIn(partition: number, hint: string): string {
  for (let i = 0; ; i++) if (partitionOf(`${SERVICE}/counter/${hint}-${i}`, PARTITIONS) === partition) return `${hint}-${i}`;
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
const isEvent = (value: unknown) => value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';
const parses = (address: string) => {
  try {
    parseAddress(address);
    return true;
  } catch {
    return false;
  }
};

// Never valid JSON: `{` and a generated string can still close into one (`{}`).
const notJson = fc.oneof(nastyString, fc.string().map((s) => `{${s}`)).filter((s) => s.length > 0 && !isJson(s));
const junkReplyTo = fc.option(fc.constantFrom('null', '5', '"x"', '{}', '[]', 'true', '{"n":1,"q":2}', 'not json', '\u0000'), { nil: undefined });
const withReplyTo = (fields: Record<string, Field>, r: string | undefined) => (r === undefined ? fields : { ...fields, r });
const binary = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes));

/** Every kind of malformed entry, for a mailbox of `partition`, one arbitrary per kind. */
function badEntries(partition: number): fc.Arbitrary<Bad>[] {
  const own = `${SERVICE}/counter/${idIn(partition, 'victim')}`;
  const elsewhere = `${SERVICE}/counter/${idIn(1 - partition, 'stray')}`;
  return [
    junkReplyTo.map((r) => ({ kind: 'no id', fields: withReplyTo({ a: own, e: goodEvent }, r), reason: /no message id/ })),
    junkReplyTo.map((r) => ({ kind: 'empty id', fields: withReplyTo({ m: '', a: own, e: goodEvent }, r), reason: /no message id/ })),
    junkReplyTo.map((r) => ({ kind: 'no address', fields: withReplyTo({ m: mid(), e: goodEvent }, r), reason: /no actor address/ })),
    junkReplyTo.map((r) => ({ kind: 'no event', fields: withReplyTo({ m: mid(), a: own }, r), reason: /no event/ })),
    fc.tuple(notJson, junkReplyTo).map(([e, r]) => ({ kind: 'bad JSON', fields: withReplyTo({ m: mid(), a: own, e }, r), reason: /event is not JSON/ })),
    fc
      .tuple(nastyJson.filter((v) => !isEvent(v)), junkReplyTo)
      .map(([v, r]) => ({ kind: 'not an event', fields: withReplyTo({ m: mid(), a: own, e: toJsonText(v) }, r), reason: /event is not JSON|event must be an object/ })),
    fc
      .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
      .filter((t) => t !== 'counter')
      .map((type) => ({ kind: 'unknown actor type', fields: { m: mid(), a: `${SERVICE}/${type}/x`, e: goodEvent }, reason: /has no actor type/ })),
    fc
      .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
      .filter((s) => s !== SERVICE)
      .map((service) => ({ kind: 'wrong service', fields: { m: mid(), a: `${service}/counter/x`, e: goodEvent }, reason: /belongs to service/ })),
    fc.constant({ kind: 'wrong partition', fields: { m: mid(), a: elsewhere, e: goodEvent }, reason: /belongs to partition/ }),
    nastyString
      .filter((a) => a.length > 0 && !parses(a.replace(/[\uD800-\uDFFF]/g, '\uFFFD')))
      .map((a) => ({ kind: 'invalid address', fields: { m: mid(), a, e: goodEvent }, reason: /invalid actor address/ })),
    fc
      .constantFrom('null', '5', '"x"', '{}', '[]', 'true', '{"n":1,"q":2}', '{"n":"node"}', 'not json', '{')
      .map((r) => ({ kind: 'bad reply-to', fields: { m: mid(), a: own, e: goodEvent, r }, reason: /reply-to/ })),
    fc
      .integer({ min: 256 * 1024, max: 1024 * 1024 })
      .map((size) => ({ kind: 'huge bad JSON', fields: { m: mid(), a: own, e: `{"type":"inc","pad":"${'x'.repeat(size)}` }, reason: /event is not JSON/ })),
    fc.integer({ min: 201, max: 100_000 }).map((size) => ({ kind: 'huge id', fields: { m: mid(), a: `${SERVICE}/counter/${'x'.repeat(size)}`, e: goodEvent }, reason: /the id must be 1–200/ })),
    binary.map((e) => ({ kind: 'binary event', fields: { m: mid(), a: own, e }, reason: /event is not JSON|event must be an object/ })),
    binary
      .filter((a) => !NAME.test(a.toString('utf8').split('/')[0] ?? '') || a.toString('utf8').split('/').length < 3)
      .map((a) => ({ kind: 'binary address', fields: { m: mid(), a, e: goodEvent }, reason: /invalid actor address/ })),
  ];
}
const KINDS = badEntries(0).length;

/** A run: a partition, and its mailbox's new entries in order — malformed ones with well-formed ones among them. */
const runs = fc.integer({ min: 0, max: PARTITIONS - 1 }).chain((partition) =>
  fc.record({
    partition: fc.constant(partition),
    entries: fc.array(fc.oneof({ weight: 3, arbitrary: fc.oneof(...badEntries(partition)) }, { weight: 1, arbitrary: fc.constant('good' as const) }), { minLength: 1, maxLength: 8 }),
  }),
);

describe('mailbox with malformed entries', () => {
  it(`should dead-letter every malformed entry with its reason and keep applying the rest (${RUNS} generated mailboxes)`, async () => {
    const kinds = new Map<string, number>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(runs, async ({ partition, entries }) => {
        const keys = partitionKeys(prefix, SERVICE, partition);
        const target = `${SERVICE}/counter/${idIn(partition, `run${run++}`)}`;
        const bad = new Map<string, Bad>();
        let goods = 0;
        for (const entry of entries) {
          if (entry === 'good') {
            goods++;
            await redis.xAdd(keys.mbox, '*', { m: `good-${process.pid}-${serial++}`, a: target, e: goodEvent, t: String(Date.now()) });
          } else {
            bad.set(await redis.xAdd(keys.mbox, '*', entry.fields), entry);
            kinds.set(entry.kind, (kinds.get(entry.kind) ?? 0) + 1);
          }
        }
        // A message sent after all of them is applied, after every well-formed one before it.
        await node.send(target, { type: 'inc' });
        const answer = await node.ask<{ n: number }>(target, { type: 'get' }, { timeoutMs: 5_000 });
        expect(answer.context.n).toBe(goods + 1);

        const letters = new Map(((await redis.xRange(keys.dlq, '-', '+')) ?? []).flatMap((l) => (l.message ? [[l.message.entry, l.message] as const] : [])));
        for (const [streamId, entry] of bad) {
          const letter = letters.get(streamId);
          if (!letter) throw new Error(`${entry.kind} entry ${streamId} was not dead-lettered (fields: ${Object.keys(entry.fields).join(',')})`);
          expect(letter.error ?? '').toMatch(entry.reason);
        }
        expect(loopErrors).toEqual([]);
      }),
      { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
    // Every kind came up, and nothing is left pending in either partition.
    expect(kinds.size).toBe(KINDS);
    for (let p = 0; p < PARTITIONS; p++) {
      const pending = (await redis.sendCommand(['XPENDING', partitionKeys(prefix, SERVICE, p).mbox, SERVICE])) as [number, ...unknown[]];
      expect(Number(pending[0])).toBe(0);
    }
    // 60–110 ms a mailbox here: the default's 200 take ~12–22 s; FUZZ_MAILBOX_RUNS raised gets the time it needs.
  }, Math.max(60_000, RUNS * 300));
});
