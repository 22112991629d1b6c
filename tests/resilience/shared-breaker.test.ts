/**
 * Shared breakers across real processes and a real Redis: two Bun processes (`shared-breaker-peer.ts`), each an
 * HttpClient with a shared breaker in front of one provider served here; and one breaker whose Redis goes away.
 */

import { afterAll, afterEach, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { breakerKeys } from '../../runtime/keys.ts';
import { createBreakerStore, createCircuitBreaker, type BreakerEvent } from '../../runtime/resilience/index.ts';
import { cleanupPrefix, SHARED_REDIS, startRedisServer, testPrefix, waitFor } from '../helpers/redis.ts';

type Line = { instance: string; at: number; event?: BreakerEvent; outcomes?: string[]; stats?: { state: string; reason: string } };

class Peer {
  readonly lines: Line[] = [];
  private readonly proc: ReturnType<typeof Bun.spawn>;

  constructor(
    readonly instance: string,
    prefix: string,
    providerUrl: string,
  ) {
    this.proc = Bun.spawn(['bun', join(import.meta.dir, 'shared-breaker-peer.ts'), SHARED_REDIS, prefix, instance, providerUrl], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'inherit',
    });
    void this.read();
  }

  send(line: string): void {
    const stdin = this.proc.stdin as import('bun').FileSink;
    stdin.write(`${line}\n`);
    stdin.flush();
  }

  /** The first line (after `from`) that `match` accepts, waiting for it up to `timeoutMs`. */
  async next(what: string, match: (line: Line) => boolean, from = 0, timeoutMs = 10_000): Promise<Line> {
    return waitFor(`${this.instance}: ${what}`, () => this.lines.slice(from).find(match), timeoutMs, 5);
  }

  transitionTo(state: string): (line: Line) => boolean {
    return (line) => line.event?.type === 'breaker.transition' && line.event.to === state;
  }

  async stop(): Promise<void> {
    this.send('exit');
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 3_000);
    await this.proc.exited;
    clearTimeout(killer);
  }

  private async read(): Promise<void> {
    let buffered = '';
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stdout as ReadableStream<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) if (part.trim()) this.lines.push(JSON.parse(part) as Line);
    }
  }
}

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await cleanupPrefix(prefix);
});

describe('shared circuit breaker', () => {
  let peers: Peer[] = [];
  let provider: ReturnType<typeof Bun.serve> | undefined;
  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    peers = [];
    provider?.stop(true);
  });

  it('should open the breaker of another process within 1 s of a trip, and close it when the probes succeed', async () => {
    const prefix = testPrefix('shared-breaker');
    prefixes.push(prefix);
    let healthy = false;
    provider = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(healthy ? 'ok' : 'down', { status: healthy ? 200 : 503 }) });
    const providerUrl = `http://127.0.0.1:${provider.port}`;
    const a = new Peer('replica-a', prefix, providerUrl);
    const b = new Peer('replica-b', prefix, providerUrl);
    peers = [a, b];
    const joined = (line: Line) => line.event?.type === 'breaker.sharing' && line.event.mode === 'shared';
    await Promise.all([a.next('joined', joined), b.next('joined', joined)]);

    // Replica A alone sees the failures; B makes no call at all.
    a.send('call 5');
    const tripped = await a.next('opened', a.transitionTo('open'));
    const seen = await b.next('opened', b.transitionTo('open'));
    const propagationMs = seen.at - tripped.at;
    console.log(`shared breaker: trip propagated from replica-a to replica-b in ${propagationMs} ms`);
    expect(propagationMs).toBeLessThan(1_000);
    expect(seen.event).toMatchObject({ source: 'replica-b', from: 'closed', reason: 'opened: 5 of 5 calls failed (100%) ≥ 50% within the last 10 calls' });

    // B rejects without calling the provider: it follows the shared state.
    const mark = b.lines.length;
    b.send('call 1');
    expect((await b.next('outcomes', (line) => line.outcomes !== undefined, mark)).outcomes).toEqual(['CircuitOpenError']);

    // The provider recovers; after the wait A's two probes close the breaker, and B follows.
    healthy = true;
    const sinceOpen = a.lines.length;
    await a.next('half-open', a.transitionTo('halfOpen'), sinceOpen - 1);
    const fromB = b.lines.length;
    a.send('call 2');
    const closed = await a.next('closed', a.transitionTo('closed'), sinceOpen);
    expect(closed.event).toMatchObject({ reason: 'closed: 2 of 2 probes succeeded' });
    const followed = await b.next('closed', b.transitionTo('closed'), fromB);
    console.log(`shared breaker: close propagated in ${followed.at - closed.at} ms`);
    expect(followed.at - closed.at).toBeLessThan(1_000);
    expect(followed.event).toMatchObject({ reason: 'closed: 2 of 2 probes succeeded' });
    const afterClose = b.lines.length;
    b.send('call 1');
    expect((await b.next('outcomes', (line) => line.outcomes !== undefined, afterClose)).outcomes).toEqual(['200']);
  }, 30_000);
});

describe('shared circuit breaker without Redis', () => {
  it('should fall back to local state when Redis goes away, say so, keep calls flowing, and rejoin when it is back', async () => {
    const redis = await startRedisServer({ appendonly: false });
    const prefix = testPrefix('shared-breaker-down');
    const store = createBreakerStore({ url: redis.url, prefix, instance: 'lonely', pollMs: 100 });
    const events: BreakerEvent[] = [];
    const breaker = createCircuitBreaker({ name: 'provider', shared: true, store, window: { kind: 'count', size: 10 }, minimumCalls: 4, openWait: 60_000 });
    breaker.subscribe((event) => events.push(event));
    try {
      await waitFor('joined', () => events.some((e) => e.type === 'breaker.sharing' && e.mode === 'shared'));
      await breaker.execute(async () => 'ok');
      await waitFor('the call in the shared window', () => breaker.stats().sharing?.window.calls === 1);

      await redis.stop();
      // Nothing waits on Redis: each call runs until the breaker, judging its own window now, trips (1 + 3 of 4).
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) outcomes.push(await breaker.execute(() => Promise.reject(new Error('down'))).catch((e: Error) => e.name + ': ' + e.message.split(';')[0]));
      expect(outcomes).toEqual(['Error: down', 'Error: down', 'Error: down', 'CircuitOpenError: circuit "provider" is open']);
      expect(breaker.stats().sharing?.mode).toBe('local');
      const local = events.find((e) => e.type === 'breaker.sharing' && e.mode === 'local');
      expect(local).toMatchObject({ breaker: 'provider', reason: expect.stringContaining('Redis unreachable') });
      expect(breaker.state).toBe('open');
      expect(breaker.stats().reason).toBe('opened: 3 of 4 calls failed (75%) ≥ 50% within the last 10 calls');

      // Redis is back (empty): the breaker rejoins and follows the shared record.
      const again = await startRedisServer({ port: redis.port, appendonly: false });
      try {
        await waitFor('rejoined', () => events.some((e) => e.type === 'breaker.sharing' && e.mode === 'shared' && e.reason.includes('rejoined')), 10_000);
        await waitFor('the shared state adopted', () => breaker.state === 'closed');
        await breaker.execute(async () => 'ok');
        await waitFor('recorded in the shared window again', () => breaker.stats().sharing?.window.calls === 1);
      } finally {
        await again.stop();
      }
    } finally {
      breaker.dispose();
      store.close();
    }
  }, 30_000);

  it('should refuse shared: true without a store', () => {
    expect(() => createCircuitBreaker({ name: 'provider', shared: true })).toThrow('breaker "provider": shared: true needs a store');
  });

  it('should keep its keys under the system prefix, in one hash tag per breaker', () => {
    const keys = breakerKeys('mailroom', 'payment-provider');
    expect(Object.values(keys).every((key) => key.startsWith('mailroom:{breaker:payment-provider}:'))).toBe(true);
  });
});
