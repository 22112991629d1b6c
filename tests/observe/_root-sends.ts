/**
 * Child process of root-sends.test.ts: starts tracing from the environment, takes as many root decisions as its
 * argument says, as a send from outside any span does, flushes the spans, and prints the traceparents it got (one per
 * line, `-` for a send that carries none).
 */
import { sendTraceparent, startTracing, tracing } from '../../runtime/observe/tracing.ts';

await startTracing('root-sends');
const lines: string[] = [];
for (let i = 0; i < Number(process.argv[2]); i++) lines.push(sendTraceparent('inc') ?? '-');
await tracing.flush();
console.log(lines.join('\n'));
process.exit(0);
