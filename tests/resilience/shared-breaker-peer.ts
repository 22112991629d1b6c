/**
 * One replica for the shared-breaker tests, run as its own Bun process: an HttpClient whose `provider` dependency
 * sits behind a shared breaker. It prints one JSON line per breaker event (with the wall-clock time it saw it) and
 * obeys lines on stdin: `call N` makes N requests and prints their outcomes, `stats` prints the breaker's stats.
 *
 *   bun tests/resilience/shared-breaker-peer.ts <redis url> <prefix> <instance> <provider url>
 */
import { createBreakerStore, createHttpClient } from '../../runtime/resilience/index.ts';

const [url, prefix, instance, providerUrl] = process.argv.slice(2) as [string, string, string, string];
const say = (line: object) => process.stdout.write(`${JSON.stringify({ instance, at: Date.now(), ...line })}\n`);

const store = createBreakerStore({ url, prefix, instance });
const http = createHttpClient({
  source: instance,
  breakerStore: store,
  dependencies: { provider: { baseUrl: providerUrl } },
  defaults: {
    retry: false,
    bulkhead: false,
    timeoutMs: 2_000,
    attemptTimeoutMs: 2_000,
    circuitBreaker: { shared: true, window: { kind: 'count', size: 10 }, minimumCalls: 5, openWait: 1_500, halfOpenProbes: 2 },
  },
});
http.breaker('provider').subscribe((event) => {
  if (event.type !== 'breaker.rejected') say({ event });
});

for await (const chunk of Bun.stdin.stream().pipeThrough(new TextDecoderStream())) {
  for (const line of chunk.split('\n').filter(Boolean)) {
    const [command, arg] = line.split(' ');
    if (command === 'call') {
      const outcomes: string[] = [];
      for (let i = 0; i < Number(arg); i++) {
        outcomes.push(await http.request('provider', '/charge').then((r) => String(r.status), (e: Error) => e.name));
      }
      say({ outcomes });
    } else if (command === 'stats') {
      say({ stats: http.stats().provider!.breaker });
    } else if (command === 'exit') {
      http.dispose();
      store.close();
      process.exit(0);
    }
  }
}
