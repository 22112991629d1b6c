/**
 * The system a chaos run abuses: every Mailroom process (no Vite) under the real supervisor, started in this process
 * so the run can SIGKILL and SIGSTOP children by pid and sees them restart; a private redis-server with AOF in a temp
 * directory; ports shifted by a free offset and keys under a prefix of the run's own, so it can run beside a
 * `bun run dev` and other tests. With `replicas` > 1 every actor service runs that many nodes (the extra ones on
 * free ports), so a paused or killed node's partitions move to a live one. The processes' output goes to a log file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createWriteStream } from 'node:fs';
import { SERVICE_NAMES, portOf, type ProcessName } from '../../services/config.ts';
import type { ProcessEvent } from '../../runtime/index.ts';
import { startSupervisor, type Supervisor } from '../../runtime/supervisor/index.ts';
import type { ProcessSpec } from '../../runtime/supervisor/index.ts';
import { mailroomProcesses } from '../../services/processes.ts';
import { startLocalCluster, type LocalCluster } from '../../runtime/supervisor/local-cluster.ts';
import { freePort, freePortOffset } from '../supervisor/helpers.ts';
import { isPortFree } from '../../runtime/supervisor/prerequisites.ts';

export const ROOT = resolve(import.meta.dir, '../..');

/** The processes a run may kill: every actor service's nodes, the provider, notifications and the gateway (not Redis: that is once). */
export type Victim = string;

export type ChaosSystem = {
  supervisor: Supervisor;
  dir: string;
  prefix: string;
  offset: number;
  redisUrl: string;
  /** With `--cluster`: the local 3-master / 3-replica Redis Cluster everything runs on (no private Redis then). */
  cluster?: LocalCluster;
  /** Names of the processes of each actor service (`order`, `order-2`, …). */
  nodesOf: Record<string, string[]>;
  /** Every process the run may SIGKILL. */
  victims: string[];
  url(name: ProcessName, path: string): string;
  /** The pid of a running child (undefined while it is down). */
  pid(name: string): number | undefined;
  /** When each child last became healthy (ms since the epoch), from the supervisor's events. */
  lastHealthy: Map<string, { at: number; pid: number | undefined }>;
  /** The last lines a process wrote, for a failure message. */
  tail(name: string, lines?: number): string[];
  /** Lines of every process matching `pattern`, with the process name. */
  grep(pattern: RegExp): { name: string; line: string }[];
  stop(keepDir: boolean): Promise<void>;
};

/** Environment variables of the caller that would point the children elsewhere; the run sets its own. */
const INHERITED_OUT = /^(REDIS_URL|MAILROOM_.*)$/;

/**
 * Starts everything and resolves once every process answers its health check.
 *
 * @example
 * const system = await startChaosSystem({ seed: 7, replicas: 2 });
 * await fetch(system.url('gateway', '/api/catalogue'));
 * await system.stop(false);
 */
export async function startChaosSystem(options: { seed: number; replicas: number; cluster?: boolean; env?: Record<string, string> }): Promise<ChaosSystem> {
  const dir = mkdtempSync(join(tmpdir(), `mailroom-chaos-${options.seed}-`));
  const offset = await freePortOffset();
  const prefix = `chaos${options.seed}`;
  const env: Record<string, string | undefined> = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_OUT.test(name)));
  Object.assign(env, { MAILROOM_PORT_OFFSET: String(offset), MAILROOM_PREFIX: prefix, NO_COLOR: '1', MAILROOM_CHAOS_REDIS: '1', ...options.env });
  // The one setting of the caller's the children keep: whether commits wait for replicas (the run's two modes).
  for (const name of ['MAILROOM_COMMIT_REPLICAS', 'MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS']) if (process.env[name]) env[name] = process.env[name];

  const nodesOf: Record<string, string[]> = {};
  const specs: ProcessSpec[] = mailroomProcesses({ dev: false, bun: process.execPath, env });
  // A replica's port: free now, and none of the ports the offset gave the other processes (Redis included).
  const taken = new Set([...specs.map((s) => s.port), portOf('redis', env)]);
  const replicaPort = async () => {
    for (;;) {
      const port = await freePort();
      if (taken.has(port)) continue;
      taken.add(port);
      return port;
    }
  };
  for (const service of SERVICE_NAMES) {
    nodesOf[service] = [service];
    const base = specs.find((s) => s.name === service)!;
    for (let n = 2; n <= options.replicas; n++) {
      const port = await replicaPort();
      const name = `${service}-${n}`;
      nodesOf[service].push(name);
      specs.push({ ...base, name, port, healthUrl: `http://127.0.0.1:${port}/health`, url: `http://127.0.0.1:${port}`, env: { [`MAILROOM_PORT_${service.toUpperCase()}`]: String(port) } });
    }
  }

  let cluster: LocalCluster | undefined;
  if (options.cluster) {
    // Each node also binds its cluster bus on port + 10,000: that one must be free and clear of the others too.
    const ports: number[] = [];
    while (ports.length < 6) {
      const port = await freePort();
      const bus = port + 10_000;
      if (bus > 65_535 || taken.has(port) || taken.has(bus) || !(await isPortFree('127.0.0.1', bus))) continue;
      taken.add(port).add(bus);
      ports.push(port);
    }
    // cluster-node-timeout 2 s, as `bun run dev --cluster`: a master that stops answering is failed over after it.
    cluster = await startLocalCluster({ ports, dataDir: join(dir, 'cluster'), nodeTimeoutMs: 2_000 });
    env.MAILROOM_REDIS_CLUSTER = cluster.env;
  }

  const log = createWriteStream(join(dir, 'processes.log'));
  const recent = new Map<string, string[]>();
  const remember = (name: string, line: string) => {
    const lines = recent.get(name) ?? [];
    lines.push(line);
    if (lines.length > 2_000) lines.splice(0, lines.length - 1_000);
    recent.set(name, lines);
  };
  const lastHealthy = new Map<string, { at: number; pid: number | undefined }>();
  const onEvent = (event: ProcessEvent) => {
    log.write(`${new Date(event.at).toISOString()} [event] ${event.process} ${event.type} pid=${event.pid ?? '-'}\n`);
    if (event.type === 'process.healthy') lastHealthy.set(event.process, { at: event.at, pid: event.pid });
  };
  let supervisor: Supervisor;
  try {
    supervisor = await startSupervisor({
      processes: specs,
      cwd: ROOT,
      env,
      host: '127.0.0.1',
      ...(cluster ? { redisUrl: cluster.url } : { privateRedis: { port: portOf('redis', env), dataDir: join(dir, 'redis') } }),
      onEvent,
      log: (line) => log.write(`${new Date().toISOString()} ${line}\n`),
      output: (line) => {
        log.write(`${new Date().toISOString()} ${line}\n`);
        // Lines come prefixed with the padded process name and a separator.
        const name = line.slice(0, line.indexOf(' ')).trim();
        remember(name, line);
      },
      healthTimeoutMs: 60_000,
    });
  } catch (error) {
    await cluster?.stop();
    throw error;
  }

  return {
    supervisor,
    dir,
    prefix,
    offset,
    redisUrl: supervisor.redisUrl,
    cluster,
    nodesOf,
    victims: [...Object.values(nodesOf).flat(), 'provider', 'notifications', 'gateway'],
    url: (name, path) => `http://127.0.0.1:${portOf(name, env)}${path}`,
    pid: (name) => supervisor.child(name)?.pid,
    lastHealthy,
    tail: (name, lines = 20) => (recent.get(name) ?? []).slice(-lines),
    grep: (pattern) => [...recent].flatMap(([name, lines]) => lines.filter((l) => pattern.test(l)).map((line) => ({ name, line }))),
    async stop(keepDir) {
      // A paused child would sit out its SIGTERM until the SIGKILL: wake every one first.
      for (const pid of supervisor.pids()) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {}
      }
      await supervisor.stop();
      await cluster?.stop();
      await new Promise<void>((done) => log.end(done));
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
