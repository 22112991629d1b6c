/**
 * One supervised child process: spawned in its own process group (so stopping it also stops whatever it spawned,
 * e.g. Vite under `bun x`), its output prefixed line by line, its health polled after every start, and restarted
 * with exponential backoff when it dies — with the reason (exit code or signal) logged and reported as a
 * `process.exited` inspection event. An operator may also kill it (it then restarts with its backoff), restart it at
 * once, stop it and start it again, or pause and resume it (SIGSTOP / SIGCONT to its group).
 */
import { systemClock, type Clock } from '../clock.ts';
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
  /** Called after any change of status, pid or pause (e.g. to mirror the process table somewhere). */
  onChange?: () => void;
  /** The supervisor's own remarks about this child (died, restarting, killed). */
  log: (line: string) => void;
  /** What "when" means for its events, uptime and exits (default: the wall clock). */
  clock?: Clock;
};

/** How the process last ended: exit code or signal, and when. */
export type ExitInfo = { code: number | null; signal: string | null; at: number };

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
  /** How it last ended (died, killed, stopped), if it did. */
  lastExitInfo: ExitInfo | undefined;
  /** Stopped with SIGSTOP by an operator (until `resume()` or its next start). */
  paused = false;
  /** When the running process was spawned (ms since the epoch). */
  startedAt: number | undefined;

  private proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
  private generation = 0;
  /** Since when it has been healthy (ms since the epoch), while it is. */
  healthySince: number | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: RestartBackoff;
  private healthyWaiters: Array<() => void> = [];
  private drained: Promise<unknown> = Promise.resolve();

  private readonly clock: Clock;

  constructor(private readonly options: ChildOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.backoff = new RestartBackoff(options.backoff ?? DEFAULT_BACKOFF);
  }

  /** The pid of the running process, if one runs. */
  get pid(): number | undefined {
    return this.proc && isRunning(this.proc) ? this.proc.pid : undefined;
  }

  private emit(event: Omit<ProcessEvent, 'at' | 'source' | 'process'>): void {
    this.options.onEvent?.({ ...event, at: this.clock.now(), source: 'supervisor', process: this.name } as ProcessEvent);
  }

  private changed(): void {
    this.options.onChange?.();
  }

  /** Spawns the process (again). */
  start(): void {
    if (this.status === 'stopping' || this.status === 'stopped') return;
    const generation = ++this.generation;
    this.status = 'starting';
    this.healthySince = undefined;
    this.paused = false;
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
      this.scheduleRestart(undefined);
      return;
    }
    this.proc = proc;
    this.startedAt = this.clock.now();
    this.drained = Promise.all([
      forEachLine(proc.stdout, (line) => this.options.onLine(line, 'stdout')),
      forEachLine(proc.stderr, (line) => this.options.onLine(line, 'stderr')),
    ]);
    this.emit({ type: 'process.started', pid: proc.pid, restarts: this.restarts });
    this.changed();
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
        this.healthySince = this.clock.now();
        this.emit({ type: 'process.healthy', pid: this.proc?.pid, restarts: this.restarts });
        this.changed();
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
    // How long it had been healthy sets the restart delay: read it before recording the exit clears it.
    const healthyFor = this.healthySince === undefined ? undefined : this.clock.now() - this.healthySince;
    this.recordExit(proc);
    if (this.status === 'stopping' || this.status === 'stopped') return this.changed();
    this.deaths++;
    this.scheduleRestart(healthyFor);
  }

  private recordExit(proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>): void {
    const signal = proc.signalCode === null ? null : String(proc.signalCode);
    this.lastExit = describeExit(proc.exitCode, signal);
    this.lastExitInfo = { code: proc.exitCode, signal, at: this.clock.now() };
    this.paused = false;
    this.healthySince = undefined;
    this.emit({ type: 'process.exited', pid: proc.pid, exitCode: proc.exitCode, signal, restarts: this.restarts });
  }

  /** Restarts after the backoff's next delay; `healthyFor` is how long the process had been healthy (undefined: never). */
  private scheduleRestart(healthyFor: number | undefined): void {
    const delay = this.backoff.next(healthyFor);
    this.status = 'restarting';
    this.changed();
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
    this.changed();
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (proc && isRunning(proc)) {
      signalGroup(proc.pid, 'SIGTERM', true);
      // A paused process would hold the SIGTERM until the grace period ran out.
      if (this.paused) signalGroup(proc.pid, 'SIGCONT', true);
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
    this.changed();
  }

  /**
   * Sends a signal to the running process's group (SIGKILL: it dies and is restarted with its backoff, as after
   * a crash). False when no process runs.
   *
   * @example
   * child.signal('SIGKILL'); // the supervisor restarts it after its backoff
   */
  signal(signal: NodeJS.Signals): boolean {
    const proc = this.proc;
    if (!proc || !isRunning(proc)) return false;
    signalGroup(proc.pid, signal, true);
    return true;
  }

  /** SIGSTOP to its group: it stays alive but answers nothing until `resume()`. */
  pause(): boolean {
    if (!this.signal('SIGSTOP')) return false;
    this.paused = true;
    this.changed();
    return true;
  }

  /** SIGCONT to its group. */
  resume(): boolean {
    if (!this.signal('SIGCONT')) return false;
    this.paused = false;
    this.changed();
    return true;
  }

  /**
   * Restarts it now, without backoff: SIGTERM to its group (SIGKILL after `graceMs`), then a new start. A stopped
   * child is simply started again.
   *
   * @example
   * await child.restart(2500);
   */
  async restart(graceMs: number): Promise<void> {
    if (this.status === 'stopping') return;
    if (this.status === 'stopped') return this.startAgain();
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    // The old process's exit must not schedule a restart of its own: this one is ours.
    this.generation++;
    this.status = 'restarting';
    this.changed();
    if (proc && isRunning(proc)) {
      signalGroup(proc.pid, 'SIGTERM', true);
      if (this.paused) signalGroup(proc.pid, 'SIGCONT', true);
      const inTime = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
      if (!inTime) signalGroup(proc.pid, 'SIGKILL', isRunning(proc));
      await proc.exited;
      signalGroup(proc.pid, 'SIGKILL', false);
      this.recordExit(proc);
    }
    if (this.status !== 'restarting') return; // stopped meanwhile
    this.restarts++;
    this.options.log(`${this.name} restarted by an operator`);
    this.start();
  }

  /** Starts a child that was stopped (by `stop()`); does nothing otherwise. */
  startAgain(): void {
    if (this.status !== 'stopped') return;
    this.status = 'starting';
    this.start();
  }

  /** Asks its health URL once now (the supervisor only polls until the first success). */
  probe(): Promise<HealthProbe> {
    return this.options.probe();
  }

  /** SIGKILL to the whole group now (a second Ctrl-C). */
  kill(): void {
    this.status = 'stopped';
    clearTimeout(this.restartTimer);
    if (this.proc) signalGroup(this.proc.pid, 'SIGKILL', isRunning(this.proc));
    this.changed();
  }
}
