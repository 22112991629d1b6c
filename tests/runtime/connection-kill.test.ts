/**
 * A node whose Redis connections are killed again and again under load (`CLIENT KILL TYPE normal`, every 150 ms, on a
 * private redis-server) loses no message and applies none twice, on either client of its own connections (Bun's
 * `RedisClient`, the default, and node-redis): each kill fails the commands in flight — a commit or an ack whose
 * outcome the node cannot know — and the node must start the partition over as a new owner would, with senders
 * retrying under the same message id.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { freePort, startRedisServer, waitFor, type PrivateRedis } from '../helpers/redis.ts';
import { counter } from '../fixtures/test-actors.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-connection-kill-'));
let redis: PrivateRedis | undefined;
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SENDERS = 4;
const PER_SENDER = 300;
const COUNTERS = 10;

/** Sends until Redis took it: a send whose connection was killed is sent again under the same id. */
async function sendSurely(node: MailroomNode, address: string, id: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await node.send(address, { type: 'inc' }, { id });
      return attempt;
    } catch {
      await Bun.sleep(20);
    }
  }
}

describe('a node whose Redis connections are killed under load', () => {
  for (const client of ['bun', 'node-redis'] as const) {
    it(`should apply every message exactly once (${client} client)`, async () => {
      redis ??= await startRedisServer({ port: freePort(), dir, appendonly: false });
      const keyPrefix = `kill-${client}`;
      const node = await createNode({ service: 'svc', actors: [counter], keyPrefix, redis: redis.url, partitions: 4, client, onError: () => {} });
      const admin = createClient({ url: redis.url });
      await admin.connect();
      let killed = 0;
      let retried = 0;
      let sending = true;
      try {
        const killer = (async () => {
          while (sending) {
            await Bun.sleep(150);
            killed += Number(await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']));
          }
        })();
        await Promise.all(
          Array.from({ length: SENDERS }, async (_, s) => {
            for (let i = 0; i < PER_SENDER; i++) {
              const attempts = await sendSurely(node, `svc/counter/c${(s * PER_SENDER + i) % COUNTERS}`, `${keyPrefix}-${s}-${i}`);
              retried += attempts - 1;
              await Bun.sleep(10); // spread the load over some 25 kills
            }
          }),
        );
        sending = false;
        await killer;
        const expected = (SENDERS * PER_SENDER) / COUNTERS;
        const values = async () => Promise.all(Array.from({ length: COUNTERS }, async (_, c) => (await node.ask<{ n: number }>(`svc/counter/c${c}`, { type: 'get' }, { timeoutMs: 5_000 })).context.n));
        await waitFor('every message to be applied', async () => (await values()).every((n) => n >= expected), 30_000, 100);
        await Bun.sleep(500); // anything applied twice would show now
        expect(await values()).toEqual(Array.from({ length: COUNTERS }, () => expected));
        expect(killed).toBeGreaterThan(0);
        console.log(`${client}: ${killed} connections killed, ${retried} sends retried`);
      } finally {
        sending = false;
        await node.stop().catch(() => {});
        await admin.quit().catch(() => {});
      }
    }, 90_000);
  }
});
