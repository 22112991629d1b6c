/**
 * The error for a service no node has ever hosted here: a message for it would sit in a mailbox nobody reads, and
 * its partition count is unknown until its first node registers it.
 */

/**
 * Thrown when sending to, asking, or reading the log of a service that never ran a node against this Redis.
 *
 * @example
 * try {
 *   await node.send('nosuch/counter/a', { type: 'inc' });
 * } catch (error) {
 *   if (error instanceof UnknownServiceError) console.log(error.status, error.registered); // 404 ['order', …]
 * }
 */
export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
  readonly code = 'UNKNOWN_SERVICE' as const;
  readonly status = 404 as const;
  constructor(
    readonly service: string,
    /** The services that have registered here, when known (to spot a typo). */
    readonly registered: readonly string[] = [],
  ) {
    super(
      `no service "${service}" has ever run a node here` +
        (registered.length ? ` (registered services: ${registered.join(', ')})` : ' (no service has registered yet)') +
        '; start a node of it first',
    );
  }
}
