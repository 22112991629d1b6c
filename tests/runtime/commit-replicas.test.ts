/**
 * `MAILROOM_COMMIT_REPLICAS=1` on a real 3 + 3 Redis Cluster: a commit is followed by `WAIT 1` on its partition's
 * master, and its reply leaves only once a replica has it. With that master's replica paused, the commit stays
 * unconfirmed: no reply leaves, the worker treats the outcome as unknown, and once the replica is back the message
 * is applied exactly once (a retry with the same id is answered as a duplicate). One Redis without replicas is
 * refused at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { AskTimeoutError, createNode, partitionOf, type MailroomNode } from '../../runtime/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { openLink, type RedisLink } from '../../runtime/redis/link.ts';
import { commitReplicasFromEnv, ReplicasUnconfirmedError } from '../../runtime/node/replica-wait.ts';
import { counter } from '../fixtures/test-actors.ts';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.ts';
import { testPrefix, waitFor } from '../helpers/redis.ts';
import { rejectionOf } from '../helpers/rejection.ts';

let cluster: TestCluster;
let link: RedisLink;
const nodes: MailroomNode[] = [];
const stopped = new Set<number>();
beforeAll(async () => {
  cluster = await startTestCluster();
  link = await openLink(cluster.url);
}, 60_000);
afterAll(async () => {
  for (const pid of stopped) process.kill(pid, 'SIGCONT');
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  await link?.close();
  await cluster?.stop();
});

/** The port of the master serving `key`, and the port of its replica. */
async function masterAndReplicaOf(key: string): Promise<{ master: number; replica: number }> {
  const slot = Number(await link.call(['CLUSTER', 'KEYSLOT', key]));
  const lines = String(await link.call(['CLUSTER', 'NODES'])).trim().split('\n').map((l) => l.split(' '));
  const portOf = (f: string[]) => Number(f[1]!.split('@')[0]!.split(':')[1]);
  const master = lines.find((f) => f[2]!.includes('master') && f.slice(8).some((r) => {
    const [from, to = from] = r.split('-').map(Number) as [number, number?];
    return slot >= from && slot <= to!;
  }))!;
  const replica = lines.find((f) => f[3] === master[0])!;
  return { master: portOf(master), replica: portOf(replica) };
}

describe('MAILROOM_COMMIT_REPLICAS', () => {
  it('should read the replicas and the timeout from the environment, and refuse a malformed value', () => {
    expect(commitReplicasFromEnv({})).toEqual({ replicas: 0, timeoutMs: 500 });
    expect(commitReplicasFromEnv({ MAILROOM_COMMIT_REPLICAS: '1', MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS: '250' })).toEqual({ replicas: 1, timeoutMs: 250 });
    expect(() => commitReplicasFromEnv({ MAILROOM_COMMIT_REPLICAS: 'yes' })).toThrow('MAILROOM_COMMIT_REPLICAS=yes must be a whole number from 0 to 5');
  });

  it('should refuse to start on one Redis without replicas, saying why', async () => {
    const single = await openLink('redis://127.0.0.1:6379');
    const info = String(await single.call(['INFO', 'replication']));
    await single.close();
    expect(info).toContain('connected_slaves:0');
    const refused = await rejectionOf(createNode({ service: 'svc', actors: [counter], keyPrefix: testPrefix('replicas-single'), redis: 'redis://127.0.0.1:6379', commitReplicas: 1 }));
    expect(refused.message).toContain('MAILROOM_COMMIT_REPLICAS=1 needs a Redis with 1 connected replica(s), and redis://127.0.0.1:6379 has 0 (role master)');
  });

  it('should answer only once a replica has the commit, and apply a turn whose replica was paused exactly once', async () => {
    const prefix = testPrefix('replicas-wait');
    const errors: string[] = [];
    const onError = (error: unknown, where: string) => errors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    // A second for a replica to confirm: a loaded CI machine missed 300 ms during the first takeover.
    const options = { service: 'svc', keyPrefix: prefix, redis: cluster.url, commitReplicas: 1, commitReplicasTimeoutMs: 1_000, onError };
    const worker = await createNode({ ...options, actors: [counter], leaseTtlMs: 1_500 });
    const client = await createNode({ ...options, actors: [], consume: false });
    nodes.push(worker, client);
    await waitFor('the worker to own every partition', () => worker.owned().length === 8);

    const address = 'svc/counter/wait';
    for (let i = 0; i < 3; i++) await client.ask(address, { type: 'inc' }, { id: `before-${i}`, timeoutMs: 5_000 });
    expect((await client.ask<{ n: number }>(address, { type: 'get' })).reply).toBe(3);
    expect(errors).toEqual([]);

    const { replica } = await masterAndReplicaOf(partitionKeys(prefix, 'svc', partitionOf(address, 8)).mbox);
    const pid = cluster.pids.get(replica)!;
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
    // The turn commits on the master, but no replica confirms it: its reply never leaves.
    expect(await rejectionOf(client.ask(address, { type: 'inc' }, { id: 'during', timeoutMs: 1_500 }))).toBeInstanceOf(AskTimeoutError);
    // A send is "in the mailbox" only once a replica has it: unconfirmed, its outcome is unknown to the caller.
    expect(await rejectionOf(client.send(address, { type: 'inc' }, { id: 'sent-during' }))).toBeInstanceOf(ReplicasUnconfirmedError);
    expect(errors.some((e) => e.includes('the commit of partition') && e.includes('0 of 1 replica(s) confirmed it within 1000 ms'))).toBe(true);

    process.kill(pid, 'SIGCONT');
    stopped.delete(pid);
    // The callers retry with the same ids, as a client does after an unknown outcome: each turn was applied once.
    const again = await client.ask<{ n: number }>(address, { type: 'inc' }, { id: 'during', timeoutMs: 10_000 });
    expect(again.duplicate).toBe(true);
    await client.send(address, { type: 'inc' }, { id: 'sent-during' });
    await waitFor('the sent increment', async () => (await client.ask<{ n: number }>(address, { type: 'get' }, { timeoutMs: 5_000 })).reply === 5, 15_000, 100);
    await client.send(address, { type: 'inc' }, { id: 'sent-during' });
    await client.ask(address, { type: 'inc' }, { id: 'during', timeoutMs: 5_000 });
    expect((await client.ask<{ n: number }>(address, { type: 'get' }, { timeoutMs: 5_000 })).reply).toBe(5);
  }, 60_000);
});
