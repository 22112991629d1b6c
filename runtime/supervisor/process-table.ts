/**
 * The supervisor's process table and command channel in Redis, both sides of it: the supervisor mirrors every
 * process to the hash `${prefix}:processes` (name → JSON `ProcessRecord`) and keeps `${prefix}:supervisor:alive`
 * set while it listens; anyone else (the control plane) reads the table and pushes `ProcessCommand`s onto the list
 * `${prefix}:supervisor:commands`, which the supervisor pops and obeys (`redis-bridge.ts`).
 */
import { systemClock, type Clock } from '../clock.ts';
import { redisUrlOf, keyPrefixOf } from '../config.ts';
import { globalKeys } from '../keys.ts';
import { openLink, type RedisLink } from '../redis/link.ts';
import { PROCESS_ACTIONS, type ProcessAction } from './process-spec.ts';
import type { ProcessInfo } from './supervisor.ts';

export { PROCESS_ACTIONS, type ProcessAction };

/** A process as the panel shows it: `down` = running but not answering (or paused), `stopped` = not running by choice. */
export type ProcessStatus = 'starting' | 'up' | 'down' | 'restarting' | 'stopped';

export type ProcessRecord = {
  name: string;
  pid: number | null;
  status: ProcessStatus;
  restarts: number;
  /** How long it has been up (0 unless `up`), as of the moment it is read. */
  uptimeMs: number;
  url: string;
  port: number | null;
  lastExit?: { code: number | null; signal: string | null; at: number };
  /** Held by SIGSTOP (an operator's pause). */
  paused: boolean;
  /** Since when it has been up (ms since the epoch), while it is. */
  upSince: number | null;
  /** Why it is `down`, when it is. */
  detail?: string;
  /** When the supervisor wrote this row. */
  updatedAt: number;
  /** Its place in the supervisor's table (Redis first, then start order). */
  seq: number;
};

/** Signals `kill` may send instead of SIGKILL. */
export const KILL_SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const;
export type KillSignal = (typeof KILL_SIGNALS)[number];

export type ProcessCommand = {
  action: ProcessAction;
  process: string;
  /** For `kill`: the signal to send (default SIGKILL). */
  signal?: KillSignal;
  /** A unique id, for the logs. */
  id?: string;
  /** When it was pushed (ms since the epoch): a supervisor ignores commands more than 10 s old. */
  at?: number;
};

/** Commands older than this when popped are dropped (pushed while no supervisor listened). */
export const COMMAND_MAX_AGE_MS = 10_000;

/** How long the supervisor's heartbeat lasts; it renews it every second. */
export const ALIVE_TTL_MS = 5_000;

/**
 * The row of one process, from the supervisor's view of it and the bridge's last health re-probe.
 *
 * @example
 * toProcessRecord(supervisor.processes()[1]!, undefined, Date.now(), 1).status; // 'up'
 */
export function toProcessRecord(info: ProcessInfo, failing: string | undefined, now: number, seq = 0): ProcessRecord {
  let status: ProcessStatus;
  let detail: string | undefined;
  switch (info.status) {
    case 'starting':
      status = 'starting';
      break;
    case 'healthy':
      status = info.paused || failing !== undefined ? 'down' : 'up';
      detail = info.paused ? 'paused (SIGSTOP) by an operator' : failing;
      break;
    case 'restarting':
      status = 'restarting';
      break;
    default:
      status = 'stopped';
  }
  const upSince = status === 'up' ? (info.healthySince ?? null) : null;
  return {
    name: info.name,
    pid: info.pid ?? null,
    status,
    restarts: info.restarts,
    uptimeMs: upSince === null ? 0 : Math.max(0, now - upSince),
    url: info.url,
    port: info.port ?? null,
    ...(info.lastExit ? { lastExit: info.lastExit } : {}),
    paused: info.paused,
    upSince,
    ...(detail ? { detail } : {}),
    updatedAt: now,
    seq,
  };
}

/** Problems with a command as popped from the list (empty when it is one to obey). */
export function commandProblems(command: Partial<ProcessCommand>, now: number): string[] {
  const problems: string[] = [];
  if (!command || typeof command !== 'object') return ['a command must be a JSON object'];
  if (!PROCESS_ACTIONS.includes(command.action as ProcessAction)) problems.push(`action must be one of ${PROCESS_ACTIONS.join(', ')}`);
  if (typeof command.process !== 'string' || command.process === '') problems.push('process must name a process');
  if (command.signal !== undefined && !KILL_SIGNALS.includes(command.signal)) problems.push(`signal must be one of ${KILL_SIGNALS.join(', ')}`);
  if (typeof command.at === 'number' && now - command.at > COMMAND_MAX_AGE_MS) problems.push(`it is ${Math.round((now - command.at) / 1000)} s old`);
  return problems;
}

export type ProcessTable = {
  /** Every process row, uptimes as of now; empty when no supervisor ever wrote one. */
  list(): Promise<ProcessRecord[]>;
  /** Whether a supervisor is listening for commands now. */
  supervisorAlive(): Promise<boolean>;
  /** Pushes a command for the supervisor (check `supervisorAlive()` first: nobody else will obey it). */
  command(command: ProcessCommand): Promise<void>;
  close(): Promise<void>;
};

/**
 * The control plane's side: read the table, send commands.
 *
 * @example
 * const table = await openProcessTable({ redis: process.env.REDIS_URL });
 * if (await table.supervisorAlive()) await table.command({ action: 'kill', process: 'inventory' });
 */
export async function openProcessTable(options: { redis?: string; keyPrefix?: string; clock?: Clock } = {}): Promise<ProcessTable> {
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  return processTableOn(link, options.keyPrefix ?? keyPrefixOf(), true, options.clock);
}

/** The same over an open connection (closed by `close()` only if `owns`); `clock` stamps commands and uptimes. */
export function processTableOn(link: RedisLink, prefix: string, owns = false, clock: Clock = systemClock): ProcessTable {
  const g = globalKeys(prefix);
  return {
    async list() {
      const raw = await link.call(['HGETALL', g.processes]);
      const values = Array.isArray(raw) ? raw.filter((_, i) => i % 2 === 1) : Object.values((raw ?? {}) as Record<string, string>);
      const now = clock.now();
      return values
        .map((v) => JSON.parse(String(v)) as ProcessRecord)
        .map((r) => ({ ...r, uptimeMs: r.status === 'up' && r.upSince !== null ? Math.max(0, now - r.upSince) : 0 }))
        .sort((a, b) => a.seq - b.seq);
    },
    async supervisorAlive() {
      return Number(await link.call(['EXISTS', g.supervisorAlive])) === 1;
    },
    async command(command) {
      await link.call(['RPUSH', g.supervisorCommands, JSON.stringify({ at: clock.now(), ...command })]);
    },
    async close() {
      if (owns) await link.close();
    },
  };
}
