/**
 * Why Bun's built-in `RedisClient` once handed the runtime wrong replies (`docs/architecture.md#redis-client`), in
 * its smallest form. The client resolves each reply's promise from inside its socket read, and drains the microtask
 * queue there; code that then runs the event loop synchronously — bun:test's `expect(promise).rejects` does, to wait
 * for the promise — lets the same client read its socket again before it has handled the rest of the first read.
 * Later commands then get the replies of others. The bytes on the wire stay in order (seen through a proxy); node-redis
 * is not affected; the runtime never runs the loop synchronously, so only tests did, and they no longer do
 * (`tests/house/test-style.test.ts`).
 *
 * The first case asserts the fault as Bun 1.4.5 has it, and runs on that version only (the suite must not turn red when
 * Bun is upgraded): on a newer Bun, add its version to `FAULTY_BUN` and run it — when it fails, Bun has fixed it.
 */
import { describe, expect, it } from 'bun:test';
import { RedisClient } from 'bun';
import { SHARED_REDIS } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

/**
 * 20 rounds of: send `a` and `b` back to back (their replies arrive in one read), and in `a`'s continuation send `d`
 * and wait for a promise that settles 20 ms later — the way `wait` says. Returns the commands whose reply was not
 * their own.
 */
async function misassigned(wait: (settlesLater: Promise<unknown>) => void | Promise<void>): Promise<string[]> {
  const wrong: string[] = [];
  let client: RedisClient | undefined;
  try {
    const redis = (client = new RedisClient(SHARED_REDIS));
    await redis.connect();
    for (let round = 0; round < 20; round++) {
      const a = redis.send('ECHO', [`a${round}`]);
      const b = redis.send('ECHO', [`b${round}`]);
      let d: Promise<unknown> | undefined;
      await a.then(async () => {
        d = redis.send('ECHO', [`d${round}`]);
        await wait(new Promise((_, reject) => setTimeout(() => reject(new Error('later')), 20)));
      });
      // A reply given to another command may leave this one waiting for good: that counts as wrong too.
      if ((await within(b)) !== `b${round}`) wrong.push(`b${round}`);
      if ((await within(d!)) !== `d${round}`) wrong.push(`d${round}`);
    }
  } finally {
    client?.close();
  }
  return wrong;
}

/** The promise's value, or 'no reply' after 2 s. */
function within(reply: Promise<unknown>): Promise<unknown> {
  return Promise.race([reply, Bun.sleep(2_000).then(() => 'no reply')]);
}

/** The Bun versions the fault was seen on. */
const FAULTY_BUN = ['1.4.5'].includes(Bun.version);

describe("Bun's RedisClient when a reply's continuation runs the event loop", () => {
  it.if(FAULTY_BUN)("should give later commands others' replies when the wait runs the loop (bun:test's expect().rejects; Bun 1.4.5)", async () => {
    const wrong = await misassigned((settlesLater) => {
      expect(settlesLater).rejects.toThrow('later');
    });
    expect(wrong.length).toBeGreaterThan(0);
  });

  it('should give every command its own reply when the wait awaits', async () => {
    const wrong = await misassigned(async (settlesLater) => {
      expect((await rejectionOf(settlesLater)).message).toBe('later');
    });
    expect(wrong).toEqual([]);
  });
});
