/**
 * The consumer process of the mailbox benchmark's BullMQ contender: a BullMQ 6 worker (concurrency
 * `--concurrency`) whose job increments its counter with HINCRBY, so the state is committed in Redis as
 * Mailroom's is. BullMQ talks to Redis through its own adapter for Bun's client (`createBunRedisClient`;
 * ioredis is not installed, and a raw `RedisClient` must not be handed over unwrapped, FINDINGS pitfall 9).
 * Reports `ready`, then `result` once `--messages` jobs have completed, with add-to-completion latencies.
 */
import { RedisClient } from 'bun';
import { createBunRedisClient, Worker, type Job } from 'bullmq';
import { childMain, cpuPerMessage, flag, numberFlag, percentile, preciseNow, report } from './_kit.ts';

const url = flag('redis', 'redis://127.0.0.1:6379');
const prefix = flag('prefix', 'bench');
const messages = numberFlag('messages', 50_000);
const concurrency = numberFlag('concurrency', 50);

await childMain(async () => {
  const startedAt = preciseNow();
  const cpuAtStart = process.cpuUsage();
  const latencies = new Float64Array(messages);
  let completed = 0;
  let lastAt = 0;
  const { promise: allDone, resolve, reject } = Promise.withResolvers<void>();

  const counters = new RedisClient(url);
  await counters.connect();
  const countersKey = `${prefix}:bullmq:counters`;

  const worker = new Worker(
    'bench',
    async (job: Job<{ id: string; t: number }>) => {
      await counters.send('HINCRBY', [countersKey, job.data.id, '1']);
    },
    { connection: createBunRedisClient(new RedisClient(url)), prefix: `${prefix}:bull`, concurrency, autorun: false },
  );
  worker.on('completed', (job: Job<{ id: string; t: number }>) => {
    const at = preciseNow();
    if (completed < messages) latencies[completed] = at - job.data.t;
    completed++;
    if (completed === messages) {
      lastAt = at;
      resolve();
    }
  });
  worker.on('failed', (_job, error) => reject(error));
  worker.on('error', (error) => reject(error));
  void worker.run();
  await worker.waitUntilReady();
  report({ type: 'ready' });

  await allDone;
  const sorted = latencies.sort();
  report({ type: 'result', startedAt, cpuUsPerMsg: cpuPerMessage(cpuAtStart, messages), lastAt, received: completed, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1] });
  await worker.close();
  counters.close();
});
