/**
 * Summarises a `bun --cpu-prof` profile by samples (not by time deltas: a sample's delta also covers the time the
 * process sat idle or descheduled, which on a busy 2-core machine distorts "self time"). Prints where the busy
 * samples go by layer (XState, node-redis, Bun's client and sockets, the runtime, …) and the top functions.
 *
 *   bun tests/bench/_profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[] };

/** The layer a source file belongs to. */
function layerOf(url: string): string | null {
  if (!url) return null;
  if (url.includes('/node_modules/xstate/')) return 'XState';
  if (url.includes('/node_modules/@redis/') || url.includes('/node_modules/redis/')) return 'node-redis';
  if (url.includes('/node_modules/')) return `other package (${url.split('/node_modules/')[1]!.split('/')[0]})`;
  if (url.includes('/runtime/')) return 'Mailroom runtime';
  if (url.includes('/tests/bench/')) return 'benchmark harness';
  if (url.startsWith('node:') || url.startsWith('internal:')) return 'Bun node-compat (net, streams, events)';
  return `other (${url})`;
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) out.push(byId.get(at)!);
    return out;
  };
  const name = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|runtime|tests)\//, '$1/')}:${f.lineNumber + 1}` : '[native]'}`;

  const layers = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let startupSamples = 0;
  for (const id of profile.samples) {
    const stack = stackOf(id);
    const leaf = stack[0]!.callFrame;
    if (leaf.functionName === '(root)' || leaf.functionName === '(idle)' || leaf.functionName === '(program)') continue;
    // Loading modules is start-up cost, not the steady state this summary is about.
    if (stack.some((n) => ['require', 'moduleEvaluation', 'loadModule', '(module)'].includes(n.callFrame.functionName))) {
      startupSamples++;
      continue;
    }
    busy++;
    // Native frames (Buffer, toString, …) count for the nearest JS frame's layer.
    const layer = stack.map((n) => layerOf(n.callFrame.url)).find((l) => l !== null) ?? 'native, no JS caller (Bun internals, GC, I/O)';
    layers.set(layer, (layers.get(layer) ?? 0) + 1);
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
    for (const fn of new Set(stack.map((n) => name(n.callFrame)))) inclusive.set(fn, (inclusive.get(fn) ?? 0) + 1);
  }
  const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`${busy} busy samples (${startupSamples} more spent loading modules, left out)`, '', 'by layer (native frames count for their nearest JS caller):'];
  for (const [l, n] of [...layers].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(n)}  ${l}`);
  lines.push('', `top ${top} functions by self samples:`);
  for (const [f, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(n)}  ${f}`);
  lines.push('', `top ${top} Mailroom runtime functions by inclusive samples:`);
  const runtime = [...inclusive].filter(([f]) => f.includes(' runtime/')).sort((a, b) => b[1] - a[1]);
  for (const [f, n] of runtime.slice(0, top)) lines.push(`  ${pct(n)}  ${f}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: bun tests/bench/_profile-summary.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  const at = process.argv.indexOf('--top');
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, at > 0 ? Number(process.argv[at + 1]) : 25));
}
