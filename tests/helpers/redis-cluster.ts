/**
 * A throwaway Redis Cluster for tests: 3 masters and 3 replicas on free ports, in a temp directory removed when it
 * stops (see `runtime/supervisor/local-cluster.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../runtime/supervisor/local-cluster.ts';
import { isPortFree } from '../../runtime/supervisor/prerequisites.ts';

/**
 * Ports for the nodes: each also binds its cluster bus on port + 10,000, and that one must be free too. Both are
 * taken below Linux's ephemeral range (32768 up), where no outgoing connection takes them between the check and the
 * node's start — a node whose bus port an ephemeral port held exited at once ("is the port taken?").
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 2_700);
    if (ports.includes(port) || !(await isPortFree('127.0.0.1', port)) || !(await isPortFree('127.0.0.1', port + 10_000))) continue;
    ports.push(port);
  }
  return ports;
}

export type TestCluster = LocalCluster & { dir: string };

/** Starts a 3-master / 3-replica cluster and waits for `cluster_state:ok`. */
export async function startTestCluster(options: { nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-cluster-'));
  const ports = await clusterPorts(6);
  try {
    const cluster = await startLocalCluster({ ports, dataDir: dir, appendonly: false, nodeTimeoutMs: options.nodeTimeoutMs ?? 1_000 });
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
