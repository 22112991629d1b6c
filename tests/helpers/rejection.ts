/**
 * The error a promise rejects with; fails if it resolves. Use it instead of bun:test's `expect(promise).rejects`,
 * which waits by running the event loop inside the caller: when the caller is itself the continuation of a reply of
 * Bun's `RedisClient`, that client reads its socket again in the middle of handling a read and gives later commands
 * the wrong replies (`tests/bench/bun-redis-reentry.test.ts`).
 *
 * @example
 * expect((await rejectionOf(node.ask('svc/x/1', { type: 'boom' }))).message).toContain('boom');
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
