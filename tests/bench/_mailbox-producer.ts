/**
 * The producer process of the mailbox benchmark: sends `--messages` increments round-robin to `--actors` counters,
 * either as fast as it can (`--window` sends in flight at once, pipelined on one connection) or paced at `--rate`
 * messages per second. `--target` says through what:
 *   mailroom  a client-only Mailroom node (`consume: false`), `node.send` (`--client` as for the consumer)
 *   stream    bare XADDs of the same fields to `--streams` streams, Bun's `RedisClient` (the ceiling)
 *   bullmq    `queue.add` of one job per increment, BullMQ through its adapter for Bun's client
 * Reports `{type:'result', startedAt, endedAt, sent, cpuUsPerMsg}` (cross-process ms; CPU µs per send) when every
 * send has resolved.
 */
import { RedisClient } from 'bun';
import { createBunRedisClient, Queue } from 'bullmq';
import { createNode, partitionOf, type NodeOptions } from '../../runtime/index.ts';
import { actorOf, childMain, cpuPerMessage, flag, numberFlag, preciseNow, report } from './_kit.ts';

const target = flag('target', 'mailroom');
const url = flag('redis', 'redis://127.0.0.1:6379');
const prefix = flag('prefix', 'bench');
const messages = numberFlag('messages', 50_000);
const actors = numberFlag('actors', 1_000);
const rate = numberFlag('rate', 0);
const window = numberFlag('window', 1_000);
const partitions = numberFlag('partitions', 8);
const streams = numberFlag('streams', 8);
const client = flag('client') as NodeOptions['client'];

type Sender = { send(i: number): Promise<unknown>; close(): Promise<void> };

async function mailroomSender(): Promise<Sender> {
  const node = await createNode({ service: 'bench', actors: [], redis: url, keyPrefix: prefix, partitions, consume: false, client });
  return { send: (i) => node.send(actorOf(i, actors), { type: 'inc' }), close: () => node.stop() };
}

async function streamSender(): Promise<Sender> {
  const client = new RedisClient(url);
  await client.connect();
  const keys = Array.from({ length: streams }, (_, s) => `${prefix}:s:${s}`);
  const event = JSON.stringify({ type: 'inc' });
  return {
    send(i) {
      const address = actorOf(i, actors);
      // The same fields a Mailroom envelope carries, so both loops move entries of the same size.
      return client.send('XADD', [keys[partitionOf(address, streams)]!, '*', 'm', Bun.randomUUIDv7(), 'a', address, 'e', event, 't', String(preciseNow())]);
    },
    async close() {
      client.close();
    },
  };
}

async function bullmqSender(): Promise<Sender> {
  const queue = new Queue('bench', { connection: createBunRedisClient(new RedisClient(url)), prefix: `${prefix}:bull` });
  await queue.waitUntilReady();
  return {
    send: (i) => queue.add('inc', { id: String(i % actors), t: preciseNow() }, { removeOnComplete: true, removeOnFail: 1_000 }),
    close: () => queue.close(),
  };
}

async function fullSpeed(sender: Sender): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < messages; i = next++) await sender.send(i);
  };
  await Promise.all(Array.from({ length: Math.min(window, messages) }, lane));
}

/** Message i goes out at start + i / rate: an open-loop arrival rate that does not slow down when the system does. */
async function paced(sender: Sender, startedAt: number): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown = null;
  let sent = 0;
  while (sent < messages) {
    const due = Math.min(messages, Math.floor(((preciseNow() - startedAt) * rate) / 1000) + 1);
    while (sent < due) {
      const p: Promise<unknown> = sender.send(sent++).then(
        () => inFlight.delete(p),
        (error: unknown) => (failure = error),
      );
      inFlight.add(p);
    }
    if (failure) throw failure;
    await Bun.sleep(1);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
}

await childMain(async () => {
  const sender = target === 'mailroom' ? await mailroomSender() : target === 'stream' ? await streamSender() : target === 'bullmq' ? await bullmqSender() : null;
  if (!sender) throw new Error(`unknown --target ${target}`);
  const startedAt = preciseNow();
  const cpuAtStart = process.cpuUsage();
  if (rate > 0) await paced(sender, startedAt);
  else await fullSpeed(sender);
  const endedAt = preciseNow();
  report({ type: 'result', startedAt, endedAt, sent: messages, cpuUsPerMsg: cpuPerMessage(cpuAtStart, messages) });
  await sender.close();
});
