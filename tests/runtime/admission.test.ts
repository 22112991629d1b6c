/**
 * Admission control on `ask`: while a service's mailbox holds more than the bound, an ask is refused before
 * anything is sent (429 OVERLOADED with a retry-after, nothing added to any mailbox), and asks go through again
 * once a consumer has drained the backlog. The refusal reaches HTTP as the frame's one JSON error with Retry-After.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { AdmissionRefusedError, createNode, type AdmissionBounds, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { metricsText } from '../../runtime/observe/metrics.ts';
import { counter } from '../fixtures/test-actors.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('admission');
const PARTITIONS = 2;
const nodes: MailroomNode[] = [];
const redis = createClient({ url: SHARED_REDIS });
await redis.connect();
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await redis.quit();
  await cleanupPrefix(prefix);
});

const bounds: AdmissionBounds = { maxBacklog: 5, maxAgeMs: 3_600_000, sampleMs: 20, staleMs: 60_000, targetMs: 0, maxInFlight: 1_000 };

async function start(options: { consume: boolean; admission?: AdmissionBounds }) {
  const node = await createNode({ service: 'adm', actors: [counter], keyPrefix: prefix, redis: SHARED_REDIS, partitions: PARTITIONS, leaseTtlMs: 1_000, onError: () => {}, ...options });
  nodes.push(node);
  return node;
}

/** How many entries the service's mailboxes hold (delivered or not). */
async function mailboxEntries(): Promise<number> {
  let n = 0;
  for (let p = 0; p < PARTITIONS; p++) n += await redis.xLen(partitionKeys(prefix, 'adm', p).mbox);
  return n;
}

/** The outcome of an ask: its result, or the error it threw. */
const attempt = (node: MailroomNode, address: string) =>
  node.ask(address, { type: 'inc' }, { timeoutMs: 10_000 }).then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('admission control on ask', () => {
  it('should refuse an ask while a mailbox is past its bound, send nothing, and admit again once it has drained', async () => {
    // A consumer registers the service and goes: whatever is sent from now on waits in the mailboxes.
    const first = await start({ consume: true });
    await first.ask('adm/counter/warm', { type: 'inc' });
    await first.stop();
    const client = await start({ consume: false, admission: bounds });
    for (let i = 0; i < 40; i++) await client.send(`adm/counter/flood-${i}`, { type: 'inc' });

    // The first asks may go through before the sampler's first reading is in (they then wait in vain).
    const refused = await waitFor('an ask refused at the door', async () => {
      const outcome = await client.ask('adm/counter/probe', { type: 'inc' }, { timeoutMs: 300 }).then(
        () => null,
        (error: unknown) => error,
      );
      return outcome instanceof AdmissionRefusedError ? outcome : null;
    });
    expect(refused.status).toBe(429);

    const before = await mailboxEntries();
    const outcome = await attempt(client, 'adm/counter/refused');
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: unknown }).error as AdmissionRefusedError;
    expect(error).toBeInstanceOf(AdmissionRefusedError);
    expect(error.status).toBe(429);
    expect(error.code).toBe('OVERLOADED');
    expect(error.reason).toBe('backlog');
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(error.message).toContain('adm is overloaded');
    expect(error.message).toContain('the bound is 5');
    expect(error.message).toContain('nothing was done');
    expect(error.details).toMatchObject({ service: 'adm', reason: 'backlog', maxBacklog: 5 });
    expect((error.details as { backlog: number }).backlog).toBeGreaterThan(5);
    // Nothing was sent: no new entry, and none for the refused actor anywhere.
    expect(await mailboxEntries()).toBe(before);
    for (let p = 0; p < PARTITIONS; p++) {
      const entries = await redis.xRange(partitionKeys(prefix, 'adm', p).mbox, '-', '+');
      expect((entries ?? []).filter((e) => JSON.stringify(e.message).includes('adm/counter/refused'))).toEqual([]);
    }

    // Through the HTTP frame: the one JSON error shape, with Retry-After.
    const app = createServiceApp({ name: 'adm-http' }).post('/inc', () => client.ask('adm/counter/http', { type: 'inc' }));
    const res = await app.handle(new Request('http://127.0.0.1/inc', { method: 'POST' }));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { code: string; message: string; details: Record<string, unknown> };
    expect(body.code).toBe('OVERLOADED');
    expect(body.message).toContain('adm is overloaded');
    expect(body.details.service).toBe('adm');
    expect(await metricsText()).toMatch(/mailroom_admission_refused_total\{service="adm",reason="backlog"\} [1-9]/);

    // A consumer drains the backlog; asks are admitted again.
    const consumer = await start({ consume: true });
    const admitted = await waitFor('an ask admitted once the backlog drained', async () => {
      const next = await attempt(client, 'adm/counter/after');
      if (!next.ok && !(next.error instanceof AdmissionRefusedError)) throw next.error;
      return next.ok ? next.result : null;
    }, 30_000);
    expect(admitted.context).toEqual({ n: 1 });
    expect(await consumer.read('adm/counter/flood-0')).toMatchObject({ context: { n: 1 } });
    // The refused ask never happened.
    expect(await consumer.read('adm/counter/refused')).toBeNull();
    expect(await consumer.read('adm/counter/http')).toBeNull();
  }, 60_000);
});
