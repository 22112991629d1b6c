/**
 * node-redis 6 traces every command through a `diagnostics_channel` TracingChannel (`node-redis:command`) unless
 * the channel says it has no subscribers — and Bun's TracingChannel has no `hasSubscribers` (Bun 1.4: `undefined`),
 * which node-redis reads as "maybe", so each command is wrapped in `tracePromise` and its arguments copied to strings
 * for a trace nobody reads (~5 µs a command, a third of a pipelined command's CPU: docs/benchmarks.md). This gives Bun's TracingChannel the getter Node has: subscribed
 * when any of its five channels is. Imported for its effect by every module that creates a node-redis client; a Bun
 * that grows its own getter is left alone.
 */
import dc from 'node:diagnostics_channel';

const probe = dc.tracingChannel('mailroom:probe');

if ((probe as { hasSubscribers?: boolean }).hasSubscribers === undefined) {
  Object.defineProperty(Object.getPrototypeOf(probe), 'hasSubscribers', {
    configurable: true,
    get(this: typeof probe): boolean {
      return this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers;
    },
  });
}
