/**
 * The supervisor: checks prerequisites, starts a private Redis unless one is given, starts every process as its own
 * supervised child with the Redis URL in its environment, waits until each answers its health URL, and stops them
 * all (children of children too) on request. It knows processes only as `ProcessSpec`s; which processes make up
 * Mailroom is the composition root's business (`services/system.ts`).
 */
import type { Clock } from '../clock.ts';
import { withAllocatorDefaults } from '../process/allocator.ts';
import type { ProcessEvent } from '../inspection.ts';
import type { BackoffPolicy } from './backoff.ts';
import { SupervisedChild, type ChildOptions, type ExitInfo } from './child-process.ts';
import { PrerequisiteError, SupervisorError } from './errors.ts';
import { probeHealth } from './health.ts';
import { linePrefixer } from './output.ts';
import { checkBun, checkPorts, checkRedis } from './prerequisites.ts';
import { privateRedisCommand, privateRedisUrl, reclaimLeftoverRedis, type RedisAuth } from './private-redis.ts';
import { redactedUrl } from '../redis/redacted-url.ts';
import type { ProcessAction, ProcessSpec } from './process-spec.ts';
import { pingRedis } from './redis-ping.ts';

export type SupervisorOptions = {
  processes: ProcessSpec[];
  /** Working directory of every child (the project root). */
  cwd: string;
  /** Environment of every child, before the supervisor adds `REDIS_URL` and the spec's own (default: ours). */
  env?: Record<string, string | undefined>;
  /** Where ports are checked (the interface the processes bind). */
  host: string;
  /** An external Redis (`REDIS_URL`); without it a private redis-server is started. */
  redisUrl?: string;
  /** The private Redis (needed unless `redisUrl` is given): port, data directory, binary (default: on PATH). */
  privateRedis?: { port: number; dataDir: string; server?: string; portEnvVar?: string; auth?: RedisAuth };
  minBunVersion?: string;
  /** How long every process gets to answer its health URL after the start (default 30 s). */
  healthTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace for each process when stopping (default 2.5 s; Redis gets 1.5 s after them). */
  stopGraceMs?: number;
  backoff?: BackoffPolicy;
  /** `process.*` inspection events (started, healthy, exited). */
  onEvent?: (event: ProcessEvent) => void;
  /** Called after any change in the process table (a status, a pid, a pause): read `processes()` then. */
  onChange?: () => void;
  /** The supervisor's own lines (default: stdout). */
  log?: (line: string) => void;
  /** A child's line, already prefixed with its name (default: the supervisor's stdout / stderr). */
  output?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Colour the name prefixes (default: no). */
  colour?: boolean;
  /** What "when" means for the children's events, uptime and exits (default: the wall clock). */
  clock?: Clock;
};

export type ProcessInfo = {
  name: string;
  url: string;
  pid: number | undefined;
  status: SupervisedChild['status'];
  restarts: number;
  /** The port it listens on. */
  port: number | undefined;
  /** When the running process was spawned, and since when it has been healthy (ms since the epoch). */
  startedAt: number | undefined;
  healthySince: number | undefined;
  /** Held by SIGSTOP (an operator's pause). */
  paused: boolean;
  lastExit: ExitInfo | undefined;
};


const REDIS_NAME = 'redis';
const REDIS_START_TIMEOUT_MS = 10_000;
const REDIS_STOP_GRACE_MS = 1500;

/**
 * Mailroom's process supervisor. `start()` resolves once every process is healthy; `stop()` may be called at any
 * time (also during `start()`, which then rejects) and resolves when no child is left.
 *
 * @example
 * const supervisor = new Supervisor({ processes, cwd: root, host: '127.0.0.1', privateRedis: { port: 6380, dataDir: '.data/redis' } });
 * await supervisor.start();
 * console.log(supervisor.processes());
 * await supervisor.stop();
 */
export class Supervisor {
  /** The Redis every child was given (with its password, if it has one: print `redactedUrl(redisUrl)`). */
  redisUrl: string;
  private redis: SupervisedChild | undefined;
  private readonly children: SupervisedChild[] = [];
  private readonly specs = new Map<string, ProcessSpec>();
  private stopping: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private readonly log: (line: string) => void;
  private readonly prefixWidth: number;

  constructor(private readonly options: SupervisorOptions) {
    if (!options.redisUrl && !options.privateRedis) throw new SupervisorError('no Redis: give redisUrl or privateRedis');
    this.redisUrl = options.redisUrl ?? privateRedisUrl(options.privateRedis!.port, options.privateRedis!.auth);
    this.log = options.log ?? ((line) => console.log(line));
    this.prefixWidth = Math.max(REDIS_NAME.length, ...options.processes.map((p) => p.name.length));
  }

  /** Every process with its URL, pid, status and restart count; Redis first when it is ours. */
  processes(): ProcessInfo[] {
    const row = (c: SupervisedChild, url: string, port: number | undefined): ProcessInfo => ({
      name: c.name,
      url,
      pid: c.pid,
      status: c.status,
      restarts: c.restarts,
      port,
      startedAt: c.pid === undefined ? undefined : c.startedAt,
      healthySince: c.healthySince,
      paused: c.paused,
      lastExit: c.lastExitInfo,
    });
    const rows: ProcessInfo[] = [];
    if (this.redis) rows.push(row(this.redis, redactedUrl(this.redisUrl), this.options.privateRedis?.port));
    for (const child of this.children) {
      const spec = this.specs.get(child.name)!;
      rows.push(row(child, spec.url ?? new URL(spec.healthUrl).origin, spec.port));
    }
    return rows;
  }

  /** The supervised child called `name` (`redis` for the private Redis). */
  child(name: string): SupervisedChild | undefined {
    return name === REDIS_NAME && this.redis ? this.redis : this.children.find((c) => c.name === name);
  }

  /** Pids of every running child (Redis included). */
  pids(): number[] {
    return this.processes()
      .map((p) => p.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  private makeChild(index: number, name: string, command: string[], env: Record<string, string | undefined>, probe: ChildOptions['probe']) {
    const prefix = linePrefixer(name, this.prefixWidth, index, this.options.colour ?? false);
    const output =
      this.options.output ??
      ((line: string, stream: 'stdout' | 'stderr') => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`));
    return new SupervisedChild({
      name,
      command,
      cwd: this.options.cwd,
      env,
      probe,
      backoff: this.options.backoff,
      onLine: (line, stream) => output(prefix(line), stream),
      onEvent: this.options.onEvent,
      onChange: this.options.onChange,
      log: (line) => this.log(`supervisor: ${line}`),
      clock: this.options.clock,
    });
  }

  private async checkPrerequisites(): Promise<void> {
    const o = this.options;
    const server = o.privateRedis?.server ?? Bun.which('redis-server');
    const problems: string[] = [];
    if (!o.redisUrl && o.privateRedis) {
      const leftover = await reclaimLeftoverRedis(o.privateRedis);
      if (leftover) this.log(`supervisor: stopped a private Redis left running by an earlier run (pid ${leftover})`);
    }
    const bun = checkBun(Bun.version, o.minBunVersion ?? '1.2');
    if (bun) problems.push(bun);
    const redis = await checkRedis({ redisUrl: o.redisUrl, redisServer: server });
    if (redis) problems.push(redis);
    const ports = o.processes.map((p) => ({ name: p.name, port: p.port, envVar: p.portEnvVar }));
    if (!o.redisUrl && o.privateRedis) {
      ports.unshift({ name: 'private redis', port: o.privateRedis.port, envVar: o.privateRedis.portEnvVar });
    }
    problems.push(...(await checkPorts(o.host, ports)));
    if (problems.length > 0) throw new PrerequisiteError(problems);
  }

  /** Rejects with a one-line error per child that is not healthy within `ms` (or at once if `stop()` is called). */
  private async allHealthy(children: SupervisedChild[], ms: number, what: (child: SupervisedChild) => string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const stopped = new Promise<'stopped'>((resolve) => {
      if (this.stopSignal.signal.aborted) resolve('stopped');
      this.stopSignal.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    const healthy = Promise.all(children.map((c) => c.whenHealthy())).then(() => 'ok' as const);
    const result = await Promise.race([healthy, timeout, stopped]);
    clearTimeout(timer);
    if (result === 'stopped') throw new SupervisorError('stopped while starting');
    if (result === 'timeout') {
      const lines = children
        .filter((c) => c.status !== 'healthy')
        .map((c) => {
          const died = c.deaths > 0 ? `; it died ${c.deaths} time(s), last ${c.lastExit}` : '';
          return `${c.name} did not become healthy within ${Math.round(ms / 1000)} s: ${what(c)} → ${c.lastProbe}${died}`;
        });
      throw new SupervisorError(lines.join('\n'));
    }
  }

  /**
   * Checks prerequisites, starts Redis (unless external) and every process, and waits until all are healthy.
   * On any failure it stops what it started and rejects with a `SupervisorError` (one line per problem).
   */
  async start(): Promise<void> {
    const o = this.options;
    await this.checkPrerequisites();
    if (this.stopSignal.signal.aborted) throw new SupervisorError('stopped while starting');
    const baseEnv = { ...(o.env ?? process.env), REDIS_URL: this.redisUrl, MAILROOM_SUPERVISOR_PID: String(process.pid) };
    try {
      if (!o.redisUrl && o.privateRedis) {
        const server = o.privateRedis.server ?? Bun.which('redis-server')!;
        const command = privateRedisCommand({ server, port: o.privateRedis.port, dataDir: o.privateRedis.dataDir, auth: o.privateRedis.auth });
        this.redis = this.makeChild(0, REDIS_NAME, command, baseEnv, async () => {
          try {
            await pingRedis(this.redisUrl, 500);
            return { ok: true, detail: 'PONG' };
          } catch (error) {
            return { ok: false, detail: error instanceof Error ? error.message : String(error) };
          }
        });
        this.redis.start();
        await this.allHealthy([this.redis], REDIS_START_TIMEOUT_MS, () => `PING ${redactedUrl(this.redisUrl)}`);
      }
      o.processes.forEach((spec, i) => {
        this.specs.set(spec.name, spec);
        const env = withAllocatorDefaults({ ...baseEnv, MAILROOM_PROCESS: spec.name, ...spec.env });
        const child = this.makeChild(i + 1, spec.name, spec.command, env, () => probeHealth(spec.healthUrl));
        this.children.push(child);
        child.start();
      });
      await this.allHealthy(this.children, o.healthTimeoutMs ?? 30_000, (c) => `GET ${this.specs.get(c.name)!.healthUrl}`);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL after the grace period), then the private Redis. Idempotent. */
  stop(): Promise<void> {
    this.stopSignal.abort();
    this.stopping ??= (async () => {
      await Promise.all(this.children.map((c) => c.stop(this.options.stopGraceMs ?? 2500)));
      await this.redis?.stop(REDIS_STOP_GRACE_MS);
    })();
    return this.stopping;
  }

  /**
   * An operator's command to one process: `kill` (SIGKILL, or `signal`; restarted after its backoff, as after a crash),
   * `restart` (now, without backoff), `stop` (for good, until `start`), `start`, `pause` / `resume` (SIGSTOP /
   * SIGCONT). Throws a `SupervisorError` for an unknown process, or while the supervisor is stopping.
   *
   * @example
   * await supervisor.control('inventory', 'kill');
   */
  async control(name: string, action: ProcessAction, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.stopSignal.signal.aborted) throw new SupervisorError('the supervisor is stopping');
    const child = this.child(name);
    if (!child) throw new SupervisorError(`no process called "${name}"`);
    const grace = this.options.stopGraceMs ?? 2500;
    switch (action) {
      case 'kill':
        child.signal(signal);
        return;
      case 'restart':
        return child.restart(grace);
      case 'stop':
        return child.stop(grace);
      case 'start':
        return child.startAgain();
      case 'pause':
        child.pause();
        return;
      case 'resume':
        child.resume();
        return;
    }
  }

  /** SIGKILL to everything at once (when a person insists: a second Ctrl-C). */
  kill(): void {
    for (const child of this.children) child.kill();
    this.redis?.kill();
  }
}

/**
 * Starts a supervisor and resolves with it once every process is healthy (the form tests use).
 *
 * @example
 * const supervisor = await startSupervisor({ processes, cwd, host: '127.0.0.1', privateRedis: { port, dataDir } });
 * supervisor.pids(); // [redis, order, …]
 * await supervisor.stop();
 */
export async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const supervisor = new Supervisor(options);
  await supervisor.start();
  return supervisor;
}
