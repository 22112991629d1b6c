/**
 * The benches' Redis Cluster (`--cluster`): 3 masters and 3 replicas on free ports, persistence off, in a temp
 * directory removed when it stops; and the two things a bench does beside its contenders, on it — a batch of
 * commands routed per key, and deleting a run's keys (SCAN on each master, one UNLINK per key: a multi-key UNLINK
 * would span slots).
 */
import { RedisClient } from 'bun';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLink } from '../../runtime/redis/link.ts';
import { startLocalCluster, type LocalCluster } from '../../runtime/supervisor/local-cluster.ts';

export type BenchCluster = { url: string; nodeUrls: string[]; cluster: LocalCluster; stop(): Promise<void> };

export async function benchCluster(): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    if (probe.port + 10_000 < 65_536 && !ports.includes(probe.port)) ports.push(probe.port);
    probe.stop(true);
  }
  const cluster = await startLocalCluster({ ports, dataDir: dir, appendonly: false });
  return {
    url: cluster.url,
    nodeUrls: cluster.nodes.map((n) => `redis://${n}`),
    cluster,
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs commands (each on one key) on the cluster, in parallel; their replies in order. */
export async function onCluster(target: BenchCluster, commands: string[][]): Promise<unknown[]> {
  const link = await openLink(target.url);
  try {
    return await Promise.all(commands.map((c) => link.call(c)));
  } finally {
    await link.close();
  }
}

export async function deleteClusterPrefix(target: BenchCluster, prefix: string): Promise<number> {
  let removed = 0;
  for (const port of await target.cluster.masters()) {
    const client = new RedisClient(`redis://127.0.0.1:${port}`);
    await client.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]];
        cursor = next;
        const counts = await Promise.all(keys.map((key) => client.send('UNLINK', [key])));
        removed += counts.reduce((n: number, c) => n + Number(c), 0);
      } while (cursor !== '0');
    } finally {
      client.close();
    }
  }
  return removed;
}
