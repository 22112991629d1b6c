/**
 * One supervised child process: spawned in its own process group (so stopping it also stops whatever it spawned,
 * e.g. Vite under `bun x`), its output prefixed line by line, its health polled after every start, and restarted
 * with exponential backoff when it dies — with the reason (exit code or signal) logged and reported as a
 * `process.exited` inspection event.
 */
import type { ProcessEvent } from '../inspection.ts';
import { DEFAULT_BACKOFF, RestartBackoff, type BackoffPolicy } from './backoff.ts';
import type { HealthProbe } from './health.ts';
import { forEachLine } from './output.ts';

export type ChildStatus = 'starting' | 'healthy' | 'restarting' | 'stopping' | 'stopped';

export type ChildOptions = {
  name: string;
  command: string[];
  cwd?: string;
  env: Record<string, string | undefined>;
  /** Asked every `probeIntervalMs` after a start until it says ok. */
  probe: () => Promise<HealthProbe>;
  probeIntervalMs?: number;
  backoff?: BackoffPolicy;
  /** A line the child wrote (without its newline). */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  onEvent?: (event: ProcessEvent) => void;
  /** The supervisor's own remarks about this child (died, restarting, killed). */
  log: (line: string) => void;
};

/**
 * Sends `signal` to the child's whole process group. Only while the child itself has not been reaped may it fall
 * back to the bare pid (no group); after that the pid may already belong to an unrelated process.
 */
function signalGroup(pid: number, signal: NodeJS.Signals, leaderAlive: boolean): void {
  try {
    process.kill(-pid, signal);
  } catch {
    if (!leaderAlive) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function isRunning(proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/**
 * How a process ended, in words.
 *
 * @example
 * describeExit(1, null); // 'exited with code 1'
 * describeExit(null, 'SIGKILL'); // 'killed by SIGKILL'
 */
export function describeExit(exitCode: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
}

/**
 * A child process kept alive by the supervisor.
 *
 * @example
 * const child = new SupervisedChild({ name: 'order', command: ['bun', 'services/order/main.ts'], env: process.env,
 *   probe: () => probeHealth('http://127.0.0.1:3001/health'), onLine: console.log, log: console.log });
 * child.start();
 * await child.whenHealthy();
 * await child.stop(2500);
 */
export class SupervisedChild {
  readonly name: string;
  status: ChildStatus = 'starting';
  /** How many times it has been restarted after dying. */
  restarts = 0;
  /** How many times it died (or failed to spawn) without being asked to stop. */
  deaths = 0;
  /** The last health probe's answer, for "did not become healthy" messages. */
  lastProbe = 'not probed yet';
  /** Why it last died, if it did. */
  lastExit: string | undefined;

  private proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
  private generation = 0;
  private healthySince: number | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: RestartBackoff;
  private healthyWaiters: Array<() => void> = [];
  private drained: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ChildOptions) {
    this.name = options.name;
    this.backoff = new RestartBackoff(options.backoff ?? DEFAULT_BACKOFF);
  }

  /** The pid of the running process, if one runs. */
  get pid(): number | undefined {
    return this.proc && isRunning(this.proc) ? this.proc.pid : undefined;
  }

  private emit(event: Omit<ProcessEvent, 'at' | 'source' | 'process'>): void {
    this.options.onEvent?.({ ...event, at: Date.now(), source: 'supervisor', process: this.name } as ProcessEvent);
  }

  /** Spawns the process (again). */
  start(): void {
    if (this.status === 'stopping' || this.status === 'stopped') return;
    const generation = ++this.generation;
    this.status = 'starting';
    this.healthySince = undefined;
    let proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
    try {
      proc = Bun.spawn(this.options.command, {
        cwd: this.options.cwd,
        env: this.options.env,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        // setsid(): the child leads its own process group, which stop() signals as a whole.
        detached: true,
      });
    } catch (error) {
      this.lastExit = `could not start: ${error instanceof Error ? error.message : String(error)}`;
      this.deaths++;
      this.scheduleRestart();
      return;
    }
    this.proc = proc;
    this.drained = Promise.all([
      forEachLine(proc.stdout, (line) => this.options.onLine(line, 'stdout')),
      forEachLine(proc.stderr, (line) => this.options.onLine(line, 'stderr')),
    ]);
    this.emit({ type: 'process.started', pid: proc.pid, restarts: this.restarts });
    void proc.exited.then(() => this.onExit(generation, proc));
    void this.watchHealth(generation);
  }

  private async watchHealth(generation: number): Promise<void> {
    const interval = this.options.probeIntervalMs ?? 100;
    while (generation === this.generation && this.status === 'starting') {
      const probe = await this.options.probe();
      if (generation !== this.generation || this.status !== 'starting') return;
      this.lastProbe = probe.detail;
      if (probe.ok) {
        this.status = 'healthy';
        this.healthySince = Date.now();
        this.emit({ type: 'process.healthy', pid: this.proc?.pid, restarts: this.restarts });
        if (this.restarts > 0) this.options.log(`${this.name} is healthy again (pid ${this.proc?.pid})`);
        for (const resolve of this.healthyWaiters.splice(0)) resolve();
        return;
      }
      await Bun.sleep(interval);
    }
  }

  private onExit(generation: number, proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>): void {
    // Whatever it left behind in its group (a grandchild that ignored the parent's death) goes too.
    signalGroup(proc.pid, 'SIGKILL', false);
    if (generation !== this.generation) return;
    const signal = proc.signalCode === null ? null : String(proc.signalCode);
    this.lastExit = describeExit(proc.exitCode, signal);
    this.emit({ type: 'process.exited', pid: proc.pid, exitCode: proc.exitCode, signal, restarts: this.restarts });
    if (this.status === 'stopping' || this.status === 'stopped') return;
    this.deaths++;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const healthyFor = this.healthySince === undefined ? undefined : Date.now() - this.healthySince;
    const delay = this.backoff.next(healthyFor);
    this.status = 'restarting';
    this.options.log(`${this.name} ${this.lastExit}; restarting in ${delay} ms (restart ${this.restarts + 1})`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts++;
      this.start();
    }, delay);
  }

  /** Resolves the next time the process is healthy (at once if it is now). */
  whenHealthy(): Promise<void> {
    if (this.status === 'healthy') return Promise.resolve();
    return new Promise((resolve) => this.healthyWaiters.push(resolve));
  }

  /**
   * Stops it for good: SIGTERM to its process group, SIGKILL after `graceMs`, and no restart.
   *
   * @example
   * await child.stop(2500);
   */
  async stop(graceMs: number): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'stopping';
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (proc && isRunning(proc)) {
      signalGroup(proc.pid, 'SIGTERM', true);
      const inTime = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
      if (!inTime) {
        this.options.log(`${this.name} did not stop within ${graceMs} ms; sending SIGKILL`);
        signalGroup(proc.pid, 'SIGKILL', isRunning(proc));
        await proc.exited;
      }
    }
    if (proc) signalGroup(proc.pid, 'SIGKILL', false);
    await Promise.race([this.drained, Bun.sleep(200)]);
    this.status = 'stopped';
  }

  /** SIGKILL to the whole group now (a second Ctrl-C). */
  kill(): void {
    this.status = 'stopped';
    clearTimeout(this.restartTimer);
    if (this.proc) signalGroup(this.proc.pid, 'SIGKILL', isRunning(this.proc));
  }
}
