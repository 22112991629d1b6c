/**
 * Child process of root-sends.test.ts: starts tracing from the environment, takes `ROOT_SENDS` root decisions the way
 * a send from outside any span does, flushes the spans, and prints the traceparents it got (one per line, `-` for
 * a send that carries none).
 */
import { sendTraceparent, startTracing, tracing } from '../../runtime/observe/tracing.ts';

await startTracing('root-sends');
const lines: string[] = [];
for (let i = 0; i < Number(process.env.ROOT_SENDS); i++) lines.push(sendTraceparent('inc') ?? '-');
await tracing.flush();
console.log(lines.join('\n'));
process.exit(0);
