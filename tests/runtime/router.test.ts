/**
 * Where a send goes, and in what order: the router's list of the mailboxes of addresses located lately (a send's
 * fast path, with no promise), and a node's sends leaving in the order they were made — the first ones to an address
 * not located yet included, whose mailbox is looked up first while later sends must not overtake them.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createNode, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { globalKeys, partitionKeys } from '../../runtime/keys.ts';
import { Router } from '../../runtime/node/router.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { InvalidAddressError } from '../../runtime/address.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const prefix = testPrefix('router');
const link = await openLink(SHARED_REDIS);
const nodes: MailroomNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await link.close();
  await cleanupPrefix(prefix);
});

describe('Router.recentMailbox', () => {
  it('should know the mailbox of an address once locate found it, the same one', async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    const addresses = Array.from({ length: 50 }, (_, i) => `shop/counter/c-${i}`);
    expect(addresses.map((a) => router.recentMailbox(a))).toEqual(addresses.map(() => undefined));
    const located = await Promise.all(addresses.map(async (a) => (await router.locate(a)).mbox));
    expect(addresses.map((a) => router.recentMailbox(a))).toEqual(located);
    expect(new Set(located).size).toBe(4);
  });

  it('should not remember a malformed address, refused every time', async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    for (let i = 0; i < 2; i++) expect(await rejectionOf(router.locate('shop/Counter/x'))).toBeInstanceOf(InvalidAddressError);
    expect(router.recentMailbox('shop/Counter/x')).toBeUndefined();
  });

  it('should keep at most 10,000 addresses, starting over when full', async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    for (let i = 0; i < 10_000; i++) await router.locate(`shop/counter/k-${i}`);
    expect(router.recentMailbox('shop/counter/k-0')).toBeString();
    await router.locate('shop/counter/k-10000');
    // The 10,001st address emptied the list: the first must be located again.
    expect(router.recentMailbox('shop/counter/k-0')).toBeUndefined();
    expect(router.recentMailbox('shop/counter/k-10000')).toBeString();
  });
});

describe("a node's sends", () => {
  /** A client node sending to service `shop` (registered with 4 partitions as its first node would), and the events in one address's mailbox. */
  async function sender() {
    const g = globalKeys(prefix);
    await link.call(['HSETNX', g.service('shop'), 'partitions', 4]);
    await link.call(['SADD', g.services, 'shop']);
    const node = await createNode({ service: 'client', actors: [], redis: SHARED_REDIS, keyPrefix: prefix, consume: false });
    nodes.push(node);
    const arrived = async (address: string): Promise<string[]> => {
      const entries = (await link.call(['XRANGE', partitionKeys(prefix, 'shop', partitionOf(address, 4)).mbox, '-', '+'])) as [string, string[]][];
      return entries.map(([, f]) => ({ a: f[f.indexOf('a') + 1], e: JSON.parse(f[f.indexOf('e') + 1]!).type })).filter((m) => m.a === address).map((m) => m.e);
    };
    return { node, arrived };
  }

  it('should arrive in the order sent when the first to an address is still being looked up', async () => {
    const { node, arrived } = await sender();
    // The first send to the service learns its partition count from Redis; later new addresses are looked up at once.
    await node.send('shop/counter/warm', { type: 'warm' });
    for (let ticks = 0; ticks <= 6; ticks++) {
      const address = `shop/counter/after-${ticks}-ticks`;
      const first = node.send(address, { type: 'a' });
      for (let t = 0; t < ticks; t++) await Promise.resolve();
      await node.send(address, { type: 'b' });
      await first;
      expect({ ticks, arrived: await arrived(address) }).toEqual({ ticks, arrived: ['a', 'b'] });
    }
  });

  it('should keep the order of every send, made at any microtask, to new and known addresses alike', async () => {
    const { node, arrived } = await sender();
    await node.send('shop/counter/warm', { type: 'warm' });
    const addresses = ['shop/counter/x', 'shop/counter/y', 'shop/counter/z'];
    const sent: Promise<string>[] = [];
    const expected = new Map(addresses.map((a) => [a, [] as string[]]));
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 4;
    for (let i = 0; i < 60; i++) {
      // A new address joins every 8 sends: the first send to each is looked up while others go.
      const live = addresses.slice(0, Math.min(addresses.length, 1 + Math.floor(i / 8)));
      const address = live[i % live.length]!;
      expected.get(address)!.push(`e${i}`);
      sent.push(node.send(address, { type: `e${i}` }));
      for (let t = next(); t > 0; t--) await Promise.resolve();
    }
    await Promise.all(sent);
    for (const address of addresses) expect(await arrived(address)).toEqual(expected.get(address)!);
  });
});
