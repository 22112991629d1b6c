/**
 * The router's mailbox lookup, a send's first step: the same stream as `locate` gives, at once (no promise) for an
 * address located lately, a bad address refused every time, and the cache of addresses bounded.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { InvalidAddressError } from '../../runtime/address.ts';
import { Router } from '../../runtime/node/router.ts';
import { openLink } from '../../runtime/redis/link.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const prefix = testPrefix('router');
const link = await openLink(SHARED_REDIS);
afterAll(async () => {
  await link.close();
  await cleanupPrefix(prefix);
});

describe('Router.mailbox', () => {
  it("should give an address's mailbox as locate does, and at once once it has located it", async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    const addresses = Array.from({ length: 50 }, (_, i) => `shop/counter/c-${i}`);
    const first = addresses.map((a) => router.mailbox(a));
    expect(first.every((m) => m instanceof Promise)).toBe(true);
    const located = await Promise.all(addresses.map(async (a) => (await router.locate(a)).mbox));
    expect(await Promise.all(first)).toEqual(located);
    expect(addresses.map((a) => router.mailbox(a))).toEqual(located);
    expect(new Set(located).size).toBe(4);
  });

  it('should refuse a malformed address every time, and not remember it', async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    for (let i = 0; i < 2; i++) {
      const answer = router.mailbox('shop/Counter/x');
      expect(answer).toBeInstanceOf(Promise);
      expect(await rejectionOf(answer as Promise<string>)).toBeInstanceOf(InvalidAddressError);
    }
  });

  it('should keep at most 10,000 addresses, starting over when full', async () => {
    const router = new Router(link, prefix);
    await router.register('shop', 4);
    for (let i = 0; i < 10_000; i++) await router.mailbox(`shop/counter/k-${i}`);
    expect(typeof router.mailbox('shop/counter/k-0')).toBe('string');
    await router.mailbox('shop/counter/k-10000');
    // The 10,001st address emptied the cache: the first is located again.
    expect(router.mailbox('shop/counter/k-0')).toBeInstanceOf(Promise);
    expect(typeof router.mailbox('shop/counter/k-10000')).toBe('string');
  });
});
