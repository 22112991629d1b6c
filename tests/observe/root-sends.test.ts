/**
 * A send from outside any span decides a new trace without making a span, and makes one only when the sampler keeps
 * the trace: every traceparent it returns is a `send <event>` span that reached the collector with exactly those ids,
 * and a trace it drops leaves neither a traceparent nor a span. Runs in a child process: tracing is process-wide.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { startOtlpReceiver } from '../helpers/otlp-receiver.ts';

const receiver = startOtlpReceiver();
afterAll(() => receiver.stop());

async function rootSends(sampler: string, arg: string, sends: number): Promise<string[]> {
  const child = Bun.spawn(['bun', join(import.meta.dir, '_root-sends.ts'), String(sends)], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg },
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const out = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  return out.trim().split('\n');
}

describe('a send from outside any span', () => {
  it('should carry a traceparent exactly when the sampler keeps its trace, and that traceparent be the exported send span', async () => {
    const got = await rootSends('parentbased_traceidratio', '0.5', 400);
    const kept = got.filter((l) => l !== '-');
    // Half of 400 by trace id: far from none and from all.
    expect(kept.length).toBeGreaterThan(120);
    expect(kept.length).toBeLessThan(280);
    const exported = new Set(receiver.spans.filter((s) => s.name === 'send inc').map((s) => `00-${s.traceId}-${s.spanId}-01`));
    expect(kept.filter((tp) => !exported.has(tp))).toEqual([]);
    expect(exported.size).toBe(kept.length);
  }, 30_000);

  it('should keep every trace with the default sampler and none with always_off', async () => {
    expect((await rootSends('parentbased_always_on', '1', 20)).filter((l) => l === '-')).toEqual([]);
    expect((await rootSends('always_off', '1', 20)).filter((l) => l !== '-')).toEqual([]);
  }, 30_000);
});
