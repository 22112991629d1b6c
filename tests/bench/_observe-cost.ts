/**
 * What observability costs, for `bun run bench mailbox|saga --observe <mode>` and `--observe-cost`. A mode is an
 * environment every process of the benchmark inherits:
 *   off        MAILROOM_METRICS=off, no tracing (the baseline)
 *   metrics    metrics on (the default), no tracing
 *   trace-1    metrics on, tracing to a local OTLP/HTTP sink, parentbased_traceidratio at 0.01
 *   trace-100  the same at 1.0 (every trace kept)
 * `--observe-cost` runs the benchmark once per mode per round (`--cost-rounds`, default 3), the modes' order turning
 * each round so none always meets the machine first, each run with `--json`; then it prints each mode's median
 * throughput and CPU per unit of work, and their ratio to `off`.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';

export const MODES = ['off', 'metrics', 'trace-1', 'trace-100'] as const;
export type Mode = (typeof MODES)[number];

/** A sink for the exporters: takes OTLP/HTTP posts and counts the spans, as a collector would (and drops them). */
export function startSink(): { url: string; spans: () => number; stop(): void } {
  let spans = 0;
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json().catch(() => ({}))) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
      return Response.json({});
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, spans: () => spans, stop: () => server.stop(true) };
}

/** The environment of a mode (`sink`: where traces go). */
export function envOf(mode: Mode, sink: string): Record<string, string> {
  switch (mode) {
    case 'off':
      return { MAILROOM_METRICS: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: '' };
    case 'metrics':
      return { MAILROOM_METRICS: 'on', OTEL_EXPORTER_OTLP_ENDPOINT: '' };
    case 'trace-1':
    case 'trace-100':
      return {
        MAILROOM_METRICS: 'on',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: mode === 'trace-1' ? '0.01' : '1',
      };
  }
}

export function parseMode(raw: string): Mode {
  if ((MODES as readonly string[]).includes(raw)) return raw as Mode;
  throw new Error(`--observe takes ${MODES.join(', ')}; got "${raw}"`);
}

type Figures = { perSec: number; cpu: number };
/** What a benchmark's `--json` line says about throughput and CPU per unit of work. */
const figuresOf: Record<string, { args: string[]; unit: string; cpuUnit: string; read(json: any): Figures }> = {
  mailbox: {
    args: ['--mailroom-only', '--rounds', '1', '--messages', '100000', '--alt-client', 'none'],
    unit: 'msg/s',
    cpuUnit: 'consumer µs/msg',
    read: (j) => ({ perSec: j.mailroom.perSec, cpu: j.mailroom.consumerCpuUs }),
  },
  saga: {
    args: ['--rates', '100', '--duration', '8', '--warmup', '2'],
    unit: 'sagas/s (full speed)',
    cpuUnit: 'shop CPU ms/saga at 100/s',
    read: (j) => ({ perSec: j.rates.find((r: any) => r.rate === 'full')?.completedPerSec ?? NaN, cpu: j.rates.find((r: any) => r.rate === 100)?.cpuMsPerSaga ?? NaN }),
  },
};

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs `bench <name>` in every mode, `rounds` times, interleaved; prints medians and ratios to `off`. */
export async function observeCost(name: string, rounds: number, extraArgs: string[]): Promise<number> {
  const spec = figuresOf[name];
  if (!spec) {
    console.error(`--observe-cost measures ${Object.keys(figuresOf).join(' and ')}, not "${name}"`);
    return 2;
  }
  const sink = startSink();
  const results = new Map<Mode, Figures[]>(MODES.map((m) => [m, []]));
  const load = loadavg()[0]!;
  const began = Date.now();
  // The first occurrence of a flag wins (`flag()` in _kit.ts): extra arguments go first to override the defaults.
  const args = [...extraArgs, ...spec.args];
  console.log(`observe-cost: bench ${name} ${args.join(' ')} --json, modes ${MODES.join(', ')}, ${rounds} round(s), interleaved; load average ${load.toFixed(2)}`);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(i + round) % MODES.length]!;
        const proc = Bun.spawn(['bun', join(import.meta.dir, `${name}.ts`), ...args, '--json'], {
          env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '65336', ...envOf(mode, sink.url) },
          stdout: 'pipe',
          stderr: 'inherit',
        });
        const out = await new Response(proc.stdout).text();
        const code = await proc.exited;
        const last = out.trim().split('\n').at(-1) ?? '';
        if (code !== 0 || !last.startsWith('{')) {
          console.error(`round ${round + 1}, ${mode}: bench ${name} failed (exit ${code}):\n${out.slice(-2000)}`);
          return 1;
        }
        const f = spec.read(JSON.parse(last));
        results.get(mode)!.push(f);
        console.log(`  round ${round + 1}  ${mode.padEnd(9)}  ${f.perSec.toFixed(1).padStart(9)} ${spec.unit}   ${f.cpu.toFixed(2)} ${spec.cpuUnit}`);
      }
    }
  } finally {
    sink.stop();
  }
  const base = { perSec: median(results.get('off')!.map((r) => r.perSec)), cpu: median(results.get('off')!.map((r) => r.cpu)) };
  console.log(`\nmedians of ${rounds} round(s) (${((Date.now() - began) / 1000).toFixed(0)} s; load average ${load.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}; ${sink.spans()} spans reached the sink)`);
  console.log(`${'mode'.padEnd(10)}  ${spec.unit.padStart(22)}  ${'× off'.padStart(6)}  ${spec.cpuUnit.padStart(26)}  ${'× off'.padStart(6)}`);
  const summary: Record<string, { perSec: number; cpu: number; throughputRatio: number; cpuRatio: number }> = {};
  for (const mode of MODES) {
    const perSec = median(results.get(mode)!.map((r) => r.perSec));
    const cpu = median(results.get(mode)!.map((r) => r.cpu));
    summary[mode] = { perSec, cpu, throughputRatio: perSec / base.perSec, cpuRatio: cpu / base.cpu };
    console.log(`${mode.padEnd(10)}  ${perSec.toFixed(1).padStart(22)}  ${(perSec / base.perSec).toFixed(2).padStart(6)}  ${cpu.toFixed(2).padStart(26)}  ${(cpu / base.cpu).toFixed(2).padStart(6)}`);
  }
  console.log(JSON.stringify({ name: `${name}-observe-cost`, rounds, summary }));
  return 0;
}
