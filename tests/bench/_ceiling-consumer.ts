/**
 * The consumer process of the mailbox benchmark's ceiling: the bare loop XREADGROUP (COUNT `--count`) → one
 * XACK per batch, no state, with Bun's `RedisClient`. One loop and one connection per stream (a blocking read
 * holds its connection); the XACK is pipelined ahead of the next read, not awaited. Reports `ready`, then
 * `result` when `--messages` entries have been acked, with send-to-ack latencies.
 */
import { RedisClient } from 'bun';
import { childMain, cpuPerMessage, flag, numberFlag, percentile, preciseNow, report } from './_kit.ts';

const url = flag('redis', 'redis://127.0.0.1:6379');
const prefix = flag('prefix', 'bench');
const messages = numberFlag('messages', 50_000);
const streams = numberFlag('streams', 8);
const count = numberFlag('count', 200);

type Entry = [id: string, fields: string[]];

await childMain(async () => {
  const startedAt = preciseNow();
  const cpuAtStart = process.cpuUsage();
  const latencies = new Float64Array(messages);
  const ackedAt = new Float64Array(messages);
  let acked = 0;
  let batches = 0;
  let lastAt = 0;
  let stopping = false;
  const { promise: allAcked, resolve, reject } = Promise.withResolvers<void>();

  const clients = await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      const client = new RedisClient(url);
      await client.connect();
      const key = `${prefix}:s:${s}`;
      try {
        await client.send('XGROUP', ['CREATE', key, 'g', '0', 'MKSTREAM']);
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      }
      return { client, key };
    }),
  );

  const loop = async ({ client, key }: { client: RedisClient; key: string }) => {
    while (!stopping) {
      const res = (await client.send('XREADGROUP', ['GROUP', 'g', 'c', 'COUNT', String(count), 'BLOCK', '1000', 'STREAMS', key, '>'])) as
        | [string, Entry[]][]
        | Record<string, Entry[]>
        | null;
      const entries = res === null ? [] : Array.isArray(res) ? (res[0]?.[1] ?? []) : (Object.values(res)[0] ?? []);
      if (entries.length === 0) continue;
      batches++;
      const ids = entries.map((e) => e[0]);
      const sentAts = entries.map((e) => Number(e[1][7]));
      client.send('XACK', [key, 'g', ...ids]).then(() => {
        const at = preciseNow();
        for (const sentAt of sentAts) {
          if (acked < messages) {
            latencies[acked] = at - sentAt;
            ackedAt[acked] = at;
          }
          acked++;
        }
        if (acked >= messages && lastAt === 0) {
          lastAt = at;
          resolve();
        }
      }, reject);
    }
  };
  const loops = clients.map(loop);
  report({ type: 'ready' });

  await allAcked;
  stopping = true;
  const warmFrom = ackedAt[0]! + 1_000;
  const warm = latencies.filter((_, i) => ackedAt[i]! >= warmFrom).sort();
  const sorted = latencies.sort();
  report({
    type: 'result',
    startedAt,
    cpuUsPerMsg: cpuPerMessage(cpuAtStart, messages),
    lastAt,
    received: acked,
    batches,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1],
    warmP99Ms: percentile(warm, 99),
  });
  for (const { client } of clients) client.close();
  await Promise.allSettled(loops);
});
