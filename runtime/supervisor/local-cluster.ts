/**
 * A Redis Cluster on this machine, for `bun run dev --cluster`, the tests and the benches: one `redis-server
 * --cluster-enabled yes` per port (each with its own directory under `dataDir`: AOF and `nodes.conf`), joined by
 * `redis-cli --cluster create … --cluster-replicas R` the first time, and ready once every node reports
 * `cluster_state:ok`. Started again on the same directory, the nodes find each other from their `nodes.conf` and
 * the cluster comes back with its data; a directory from an unfinished start (nodes that never joined) is reset.
 * Ready also means every replica has synced with its master, so a `WAIT` for a replica can be answered at once.
 */
import { systemClock } from '../clock.ts';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import '../redis/tracing-channel.ts';
import { createClient } from 'redis';
import { clusterUrl } from '../redis/cluster-url.ts';

export type LocalClusterOptions = {
  /** One port per node: masters first, then replicas (3 + 3 by default). */
  ports: number[];
  dataDir: string;
  /** Replicas per master (default 1). */
  replicas?: number;
  /** Milliseconds without an answer before a master is failed over (`cluster-node-timeout`, default 2,000). */
  nodeTimeoutMs?: number;
  server?: string;
  cli?: string;
  /** Appendonly (default yes): `no` for throwaway clusters in tests. */
  appendonly?: boolean;
  /** How long to wait for `cluster_state:ok` (default 30 s). */
  readyTimeoutMs?: number;
};

export type LocalCluster = {
  /** `127.0.0.1:port` of every node. */
  nodes: string[];
  /** The `redis-cluster://` address of it (what `MAILROOM_REDIS_CLUSTER` turns into). */
  url: string;
  /** `MAILROOM_REDIS_CLUSTER`'s value for it. */
  env: string;
  /** The pid of each node's redis-server, by port. */
  pids: Map<number, number>;
  /** The ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** SIGKILLs one node (its replica takes over after `nodeTimeoutMs`). */
  kill(port: number): Promise<void>;
  /** Starts a node again (after `kill`): it rejoins, as a replica if it was failed over. */
  restart(port: number): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** SIGKILLs every node now (a supervisor that must exit at once). */
  abort(): void;
};

const node = (port: number) => `127.0.0.1:${port}`;

async function withClient<T>(port: number, fn: (client: { sendCommand(args: string[]): Promise<unknown>; ping(): Promise<string> }) => Promise<T>): Promise<T> {
  const client = createClient({ url: `redis://${node(port)}`, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** `CLUSTER INFO` of one node as a record (empty when it does not answer). */
export async function clusterInfo(port: number): Promise<Record<string, string>> {
  try {
    const text = await withClient(port, (c) => c.sendCommand(['CLUSTER', 'INFO']) as Promise<string>);
    return Object.fromEntries(String(text).split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':', 2) as [string, string]));
  } catch {
    return {};
  }
}

/** `INFO replication` of one node as a record (empty when it does not answer). */
export async function replicationInfo(port: number): Promise<Record<string, string>> {
  try {
    const text = await withClient(port, (c) => c.sendCommand(['INFO', 'replication']) as Promise<string>);
    return Object.fromEntries(String(text).split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':', 2) as [string, string]));
  } catch {
    return {};
  }
}

/** Whether every master has `replicas` connected replicas and every replica's link to its master is up. */
async function replicasInSync(ports: number[], replicas: number): Promise<boolean> {
  const infos = await Promise.all(ports.map(replicationInfo));
  return infos.every((i) => (i.role === 'master' ? Number(i.connected_slaves) >= replicas : i.role === 'slave' && i.master_link_status === 'up'));
}

/**
 * Starts (or restarts) the cluster and waits until it serves every slot.
 *
 * @example
 * const cluster = await startLocalCluster({ ports: [7001, 7002, 7003, 7004, 7005, 7006], dataDir: '.data/cluster' });
 * process.env.MAILROOM_REDIS_CLUSTER = cluster.env;
 * await cluster.stop();
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const server = options.server ?? Bun.which('redis-server');
  const cli = options.cli ?? Bun.which('redis-cli');
  if (!server || !cli) throw new Error('a local Redis Cluster needs redis-server and redis-cli on PATH (Debian: apt-get install redis-server)');
  const replicas = options.replicas ?? 1;
  if (options.ports.length < 3 * (1 + replicas)) throw new Error(`a cluster of 3 masters with ${replicas} replica(s) each needs ${3 * (1 + replicas)} ports, got ${options.ports.length}`);
  const dataDir = resolve(options.dataDir);
  const dirOf = (port: number) => join(dataDir, String(port));
  const procs = new Map<number, ReturnType<typeof Bun.spawn>>();
  const spawn = (port: number) => {
    mkdirSync(dirOf(port), { recursive: true });
    const proc = Bun.spawn(
      [
        server,
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'yes',
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2_000),
        '--appendonly', options.appendonly === false ? 'no' : 'yes',
        '--save', '',
        '--dir', dirOf(port),
        '--daemonize', 'no',
        '--loglevel', 'warning',
      ],
      { stdout: 'ignore', stderr: 'inherit' },
    );
    procs.set(port, proc);
  };
  const answers = async (port: number) => {
    for (let waited = 0; waited < 10_000; waited += 50) {
      try {
        if ((await withClient(port, (c) => c.ping())) === 'PONG') return;
      } catch {}
      if (procs.get(port)?.exitCode !== null) throw new Error(`redis-server on port ${port} exited (is the port taken?)`);
      await Bun.sleep(50);
    }
    throw new Error(`redis-server on port ${port} did not answer within 10 s`);
  };
  const stop = async () => {
    for (const proc of procs.values()) proc.kill('SIGTERM');
    await Promise.race([Promise.all([...procs.values()].map((p) => p.exited)), Bun.sleep(3_000)]);
    for (const proc of procs.values()) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
  };

  // A directory from a start that never joined (a node that knows only itself) cannot rejoin: start it afresh.
  const joinedBefore = options.ports.every((p) => existsSync(join(dirOf(p), 'nodes.conf')));
  if (!joinedBefore) for (const p of options.ports) rmSync(dirOf(p), { recursive: true, force: true });
  try {
    for (const port of options.ports) spawn(port);
    await Promise.all(options.ports.map(answers));
    const known = Number((await clusterInfo(options.ports[0]!)).cluster_known_nodes ?? 0);
    if (known < options.ports.length) {
      const create = Bun.spawn([cli, '--cluster', 'create', ...options.ports.map(node), '--cluster-replicas', String(replicas), '--cluster-yes'], { stdout: 'pipe', stderr: 'pipe' });
      const [out, err, code] = await Promise.all([new Response(create.stdout).text(), new Response(create.stderr).text(), create.exited]);
      if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}): ${(err || out).trim().split('\n').slice(-3).join(' ')}`);
    }
    const deadline = systemClock.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      const infos = await Promise.all(options.ports.map(clusterInfo));
      const ready = infos.every((i) => i.cluster_state === 'ok' && i.cluster_slots_ok === '16384' && Number(i.cluster_known_nodes) === options.ports.length);
      // Serving every slot is not enough: until each replica has synced, a WAIT for it answers 0.
      if (ready && (await replicasInSync(options.ports, replicas))) break;
      if (systemClock.now() > deadline) throw new Error(`the cluster on ports ${options.ports.join(', ')} did not reach cluster_state:ok within ${options.readyTimeoutMs ?? 30_000} ms`);
      await Bun.sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const nodes = options.ports.map(node);
  return {
    nodes,
    url: clusterUrl(nodes),
    env: nodes.join(','),
    get pids() {
      return new Map([...procs].map(([port, proc]) => [port, proc.pid]));
    },
    async masters() {
      const out: number[] = [];
      for (const port of options.ports) {
        try {
          const role = await withClient(port, (c) => c.sendCommand(['ROLE']) as Promise<unknown[]>);
          if (role[0] === 'master') out.push(port);
        } catch {}
      }
      return out;
    },
    async kill(port) {
      const proc = procs.get(port);
      if (!proc) throw new Error(`no node on port ${port}`);
      proc.kill('SIGKILL');
      await proc.exited;
    },
    async restart(port) {
      if (procs.get(port)?.exitCode === null && procs.get(port)?.signalCode === null) return;
      spawn(port);
      await answers(port);
    },
    stop,
    abort() {
      for (const proc of procs.values()) proc.kill('SIGKILL');
    },
  };
}
