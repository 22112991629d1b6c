/**
 * A throwaway Redis Cluster for tests: 3 masters and 3 replicas on free ports, in a temp directory removed when it
 * stops (see `runtime/supervisor/local-cluster.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../runtime/supervisor/local-cluster.ts';
import { freePort } from './redis.ts';

export type TestCluster = LocalCluster & { dir: string };

/** Starts a 3-master / 3-replica cluster and waits for `cluster_state:ok`. */
export async function startTestCluster(options: { nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-cluster-'));
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(freePort());
  try {
    const cluster = await startLocalCluster({ ports: [...ports], dataDir: dir, appendonly: false, nodeTimeoutMs: options.nodeTimeoutMs ?? 1_000 });
    const stopNodes = cluster.stop;
    return Object.assign(cluster, {
      dir,
      async stop() {
        await stopNodes();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
