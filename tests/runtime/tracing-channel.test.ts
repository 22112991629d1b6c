/**
 * node-redis traces each command through a diagnostics_channel TracingChannel unless it has no subscribers, and
 * Bun's TracingChannel has no `hasSubscribers` of its own: `runtime/redis/tracing-channel.ts` gives it one, so a
 * command nobody traces costs no trace — and one somebody subscribed to is still traced.
 */
import { describe, expect, test } from 'bun:test';
import dc from 'node:diagnostics_channel';
import { openLink } from '../../runtime/redis/link.ts';
import { SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const COMMAND_CHANNEL = 'node-redis:command';

describe('node-redis tracing on Bun', () => {
  test('should not wrap a command in a trace when nobody subscribed to the channel', async () => {
    const channel = dc.tracingChannel(COMMAND_CHANNEL);
    const proto = Object.getPrototypeOf(channel) as { tracePromise: (...args: unknown[]) => unknown };
    const original = proto.tracePromise;
    let traced = 0;
    proto.tracePromise = function (this: unknown, ...args: unknown[]) {
      traced++;
      return original.apply(this, args);
    };
    const link = await openLink(SHARED_REDIS, 'node-redis');
    try {
      for (let i = 0; i < 10; i++) expect(await link.call(['ECHO', `untraced-${i}`])).toBe(`untraced-${i}`);
    } finally {
      proto.tracePromise = original;
      await link.close();
    }
    expect(channel.hasSubscribers).toBe(false);
    expect(traced).toBe(0);
  });

  test('should trace every command once a subscriber listens', async () => {
    const started: string[] = [];
    const ended: string[] = [];
    const handlers = {
      start: (context: unknown) => void started.push((context as { args: string[] }).args.join(' ')),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (context: unknown) => void ended.push((context as { args: string[] }).args.join(' ')),
      error: () => {},
    };
    const channel = dc.tracingChannel(COMMAND_CHANNEL);
    const link = await openLink(SHARED_REDIS, 'node-redis');
    // GET is one of the commands node-redis traces with its arguments (an ECHO's it hides); nothing is written.
    const key = `${testPrefix('tracing')}:absent`;
    channel.subscribe(handlers);
    try {
      expect(channel.hasSubscribers).toBe(true);
      for (let i = 0; i < 3; i++) expect(await link.call(['GET', `${key}-${i}`])).toBeNull();
    } finally {
      channel.unsubscribe(handlers);
      await link.close();
    }
    expect(channel.hasSubscribers).toBe(false);
    for (let i = 0; i < 3; i++) {
      expect(started).toContain(`GET ${key}-${i}`);
      expect(ended).toContain(`GET ${key}-${i}`);
    }
  });
});
