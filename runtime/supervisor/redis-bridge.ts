/**
 * The supervisor's link to the rest of the system through Redis, kept outside the supervisor so the engine stays
 * generic: it mirrors the process table to `${prefix}:processes` on every change (and every second, with a fresh
 * health re-probe, so a hung or paused process shows `down`), keeps a heartbeat while it listens, obeys commands
 * popped from `${prefix}:supervisor:commands`, and publishes the supervisor's `process.*` inspection events to the
 * shared stream the panel follows.
 */
import { systemClock, type Clock } from '../clock.ts';
import { keyPrefixOf } from '../config.ts';
import type { ProcessEvent } from '../inspection.ts';
import { globalKeys } from '../keys.ts';
import { openInspector } from '../node/inspection-writer.ts';
import { openLink, type RedisLink } from '../redis/link.ts';
import { ALIVE_TTL_MS, commandProblems, toProcessRecord, type ProcessCommand } from './process-table.ts';
import type { Supervisor } from './supervisor.ts';

export type SupervisorBridgeOptions = {
  keyPrefix?: string;
  /** How often the table is rewritten, the heartbeat renewed and healthy processes probed again. Default 1 s. */
  refreshMs?: number;
  /** Failed re-probes in a row before a healthy process shows `down`. Default 2. */
  downAfter?: number;
  /** The bridge's remarks (commands obeyed, refused). */
  log?: (line: string) => void;
  /** What "now" is for uptimes and a command's age (default: the wall clock). */
  clock?: Clock;
};

const MAX_BUFFERED_EVENTS = 1_000;

/**
 * Create it before the supervisor (hand `onEvent` and `onChange` to it), `attach` it once the supervisor is up.
 *
 * @example
 * const bridge = new SupervisorBridge({ keyPrefix: 'mr' });
 * const supervisor = new Supervisor({ …, onEvent: bridge.onEvent, onChange: bridge.onChange });
 * await supervisor.start();
 * await bridge.attach(supervisor);
 * // on Ctrl-C:
 * await bridge.stopListening();
 * await supervisor.stop();
 * await bridge.close();
 */
export class SupervisorBridge {
  private supervisor: Supervisor | undefined;
  private link: RedisLink | undefined;
  private blocking: RedisLink | undefined;
  private inspector: Awaited<ReturnType<typeof openInspector>> | undefined;
  private buffered: ProcessEvent[] = [];
  private listening = false;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private writeQueued = false;
  private writing: Promise<void> = Promise.resolve();
  private readonly failures = new Map<string, { count: number; detail: string }>();
  private readonly prefix: string;
  private readonly log: (line: string) => void;
  private readonly clock: Clock;

  constructor(private readonly options: SupervisorBridgeOptions = {}) {
    this.prefix = options.keyPrefix ?? keyPrefixOf();
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? ((line) => console.log(`supervisor: ${line}`));
  }

  /** The supervisor's `onEvent`: published at once when attached, kept until then. */
  readonly onEvent = (event: ProcessEvent): void => {
    if (this.inspector) this.inspector.inspect(event);
    else if (!this.closed && this.buffered.length < MAX_BUFFERED_EVENTS) this.buffered.push(event);
  };

  /** The supervisor's `onChange`: rewrites the table (coalesced). */
  readonly onChange = (): void => {
    if (!this.link || this.closed || this.writeQueued) return;
    this.writeQueued = true;
    queueMicrotask(() => {
      this.writeQueued = false;
      void this.writeTable();
    });
  };

  /** Connects to the supervisor's Redis, writes the table, and starts obeying commands. */
  async attach(supervisor: Supervisor): Promise<void> {
    this.supervisor = supervisor;
    const url = supervisor.redisUrl;
    this.link = await openLink(url, 'node-redis');
    this.blocking = await openLink(url, 'node-redis', { blocking: true });
    this.inspector = await openInspector({ source: 'supervisor', redis: url, keyPrefix: this.prefix });
    for (const event of this.buffered.splice(0)) this.inspector.inspect(event);
    const g = globalKeys(this.prefix);
    // A table or commands left by an earlier run describe processes that are gone. One key per DEL: on a cluster
    // the two live in different slots.
    await this.link.call(['DEL', g.processes]);
    await this.link.call(['DEL', g.supervisorCommands]);
    await this.writeTable();
    await this.heartbeat();
    this.listening = true;
    this.loop = this.obey();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 1_000);
  }

  /** Stops obeying commands and drops the heartbeat (the table is still mirrored). */
  async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.blocking?.abort();
    await this.loop;
    await this.link?.call(['DEL', globalKeys(this.prefix).supervisorAlive]).catch(() => {});
  }

  /** Stops everything; does not wait for a Redis that is gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopListening();
    this.closed = true;
    clearInterval(this.timer);
    await Promise.race([this.writing.then(() => this.inspector?.close()), Bun.sleep(500)]).catch(() => {});
    this.link?.abort();
  }

  private async heartbeat(): Promise<void> {
    await this.link?.call(['SET', globalKeys(this.prefix).supervisorAlive, String(process.pid), 'PX', ALIVE_TTL_MS]);
  }

  private refreshing = false;

  private async refresh(): Promise<void> {
    if (this.closed || !this.supervisor || this.refreshing) return;
    this.refreshing = true;
    try {
      await this.refreshOnce();
    } finally {
      this.refreshing = false;
    }
  }

  private async refreshOnce(): Promise<void> {
    await Promise.all(
      this.supervisor!.processes().map(async (p) => {
        const child = this.supervisor!.child(p.name);
        if (!child || p.status !== 'healthy' || p.paused) return this.failures.delete(p.name);
        const probe = await child.probe();
        if (probe.ok) return this.failures.delete(p.name);
        this.failures.set(p.name, { count: (this.failures.get(p.name)?.count ?? 0) + 1, detail: `not answering its health check: ${probe.detail}` });
      }),
    ).catch(() => {});
    await this.writeTable();
    if (this.listening) await this.heartbeat().catch(() => {});
  }

  private writeTable(): Promise<void> {
    const supervisor = this.supervisor;
    const link = this.link;
    if (!supervisor || !link || this.closed) return this.writing;
    this.writing = this.writing.then(async () => {
      const now = this.clock.now();
      const fields = supervisor.processes().flatMap((p, seq) => {
        const failure = this.failures.get(p.name);
        const failing = failure && failure.count >= (this.options.downAfter ?? 2) ? failure.detail : undefined;
        return [p.name, JSON.stringify(toProcessRecord(p, failing, now, seq))];
      });
      if (fields.length) await link.call(['HSET', globalKeys(this.prefix).processes, ...fields]).catch(() => {});
    });
    return this.writing;
  }

  /** Pops commands until `stopListening`; a Redis outage only pauses it. */
  private async obey(): Promise<void> {
    const key = globalKeys(this.prefix).supervisorCommands;
    while (this.listening) {
      let raw: unknown;
      try {
        raw = await this.blocking!.call(['BLPOP', key, 1]);
      } catch {
        if (!this.listening) return;
        await Bun.sleep(200);
        continue;
      }
      if (!raw) continue;
      const text = String(Array.isArray(raw) ? raw[1] : (raw as Record<string, unknown>).element ?? '');
      let command: ProcessCommand;
      try {
        command = JSON.parse(text) as ProcessCommand;
      } catch {
        this.log(`ignored a command that is not JSON: ${text.slice(0, 100)}`);
        continue;
      }
      const problems = commandProblems(command, this.clock.now());
      if (problems.length) {
        this.log(`ignored command ${text.slice(0, 200)}: ${problems.join('; ')}`);
        continue;
      }
      this.log(`${command.action} ${command.process}${command.signal ? ` (${command.signal})` : ''}, asked through Redis`);
      // Not awaited: a restart waits out its grace period, and the next command should not wait behind it.
      void this.supervisor!.control(command.process, command.action, command.signal).catch((error: unknown) =>
        this.log(`could not ${command.action} ${command.process}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
}
