/**
 * The consumer process of the mailbox benchmark: one Mailroom node hosting the counter actors on all partitions.
 * Reports `ready` once it owns every partition, then, after `--messages` messages have committed, `result` with
 * the send-to-commit latencies (from the node's `message.received` inspection events), when the last one
 * committed, and how many commits (batches) carried them. `--client bun|node-redis` overrides the node's
 * hot-path Redis client (default: the runtime's).
 */
import { createNode, partitionOf, type NodeOptions } from '../../runtime/index.ts';
import { startTracing } from '../../runtime/observe/tracing.ts';
import { counterActor } from './_counter-actor.ts';
import { childMain, cpuPerMessage, flag, numberFlag, percentile, preciseNow, report } from './_kit.ts';

const url = flag('redis', 'redis://127.0.0.1:6379');
const prefix = flag('prefix', 'bench');
const messages = numberFlag('messages', 50_000);
const partitions = numberFlag('partitions', 8);
const client = flag('client') as NodeOptions['client'];

await childMain(async () => {
  const startedAt = preciseNow();
  // Loading the OpenTelemetry SDK (when OTEL_EXPORTER_OTLP_ENDPOINT asks for traces) takes ~90 ms of CPU once per
  // process: reported as `startCpuMs`, not spread over the messages. `createNode` finds it loaded.
  const cpuBeforeStart = process.cpuUsage();
  await startTracing('bench');
  const startCpu = process.cpuUsage(cpuBeforeStart);
  const cpuAtStart = process.cpuUsage();
  const latencies = new Float64Array(messages);
  const committedAt = new Float64Array(messages);
  let received = 0;
  let lastAt = 0;
  let batches = 0;
  let inBurst = false;
  let lastPartition = -1;
  const { promise: allCommitted, resolve } = Promise.withResolvers<void>();

  const node = await createNode({
    service: 'bench',
    actors: [counterActor()],
    redis: url,
    keyPrefix: prefix,
    partitions,
    client,
    inspect(ev) {
      if (ev.type !== 'message.received') return;
      // One commit's events arrive in one synchronous burst, all of one partition: count those to know the batch sizes.
      const partition = partitionOf(ev.actor, partitions);
      if (!inBurst || partition !== lastPartition) {
        batches++;
        if (!inBurst) queueMicrotask(() => (inBurst = false));
        inBurst = true;
        lastPartition = partition;
      }
      if (received < messages) {
        latencies[received] = ev.latencyMs!;
        committedAt[received] = preciseNow();
      }
      received++;
      if (received === messages) {
        lastAt = preciseNow();
        resolve();
      }
    },
  });
  const deadline = Date.now() + 15_000;
  while (node.owned().length < partitions) {
    if (Date.now() > deadline) throw new Error(`the consumer owns ${node.owned().length} of ${partitions} partitions after 15 s`);
    await Bun.sleep(20);
  }
  report({ type: 'ready' });

  await allCommitted;
  // Warm: messages committed more than a second after the first commit (actors activated, code JIT-compiled).
  const warmFrom = committedAt[0]! + 1_000;
  const warm = latencies.filter((_, i) => committedAt[i]! >= warmFrom).sort();
  const sorted = latencies.sort();
  report({
    type: 'result',
    startedAt,
    cpuUsPerMsg: cpuPerMessage(cpuAtStart, messages),
    startCpuMs: (startCpu.user + startCpu.system) / 1000,
    lastAt,
    received,
    batches,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1],
    warmP99Ms: percentile(warm, 99),
    warmCount: warm.length,
    processed: node.stats().processed,
  });
  await node.stop();
});
