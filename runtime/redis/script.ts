/**
 * Lua scripts loaded from `runtime/redis/lua/*.lua` and run with EVALSHA, falling back to EVAL when the server
 * does not know the script (first use, or after Redis restarted).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisArg, RedisLink } from './link.ts';

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = new Bun.CryptoHasher('sha1').update(source).digest('hex');
  }

  /** Runs the script with its keys and arguments. */
  async run(link: Pick<RedisLink, 'call'>, keys: readonly string[], args: readonly RedisArg[]): Promise<unknown> {
    const tail = [keys.length, ...keys, ...args];
    try {
      return await link.call(['EVALSHA', this.sha, ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).includes('NOSCRIPT')) throw error;
      return link.call(['EVAL', this.source, ...tail]);
    }
  }
}

const dir = join(import.meta.dir, 'lua');
const load = (file: string) => new LuaScript(file, readFileSync(join(dir, `${file}.lua`), 'utf8'));

/** Every script of the runtime. */
export const scripts = {
  readBatch: load('read-batch-3'),
  commitTurn: load('commit-turn-12'),
  countTry: load('count-try-2'),
  relayMessages: load('relay-messages-1'),
  expireActors: load('expire-actors-3'),
  fireTimers: load('fire-timers-4'),
  acquireLease: load('acquire-lease-2'),
  renewLease: load('renew-lease-1'),
  releaseLease: load('release-lease-1'),
  replayDeadLetter: load('replay-deadletter-2'),
  trimMailbox: load('trim-mailbox-1'),
  readSlice: load('read-slice-2'),
  readHistory: load('read-history-1'),
  sampleBacklog: load('sample-backlog-1'),
  recordBreakerCall: load('record-breaker-call-3'),
  acquireBreakerProbe: load('acquire-breaker-probe-1'),
  recordBreakerProbe: load('record-breaker-probe-3'),
  moveBreaker: load('move-breaker-3'),
};

/** Return codes of the scripts, mirrored from their headers. */
export enum ScriptCode {
  Ok = 1,
  NotLeaseHolder = -1,
  NotFound = -2,
  VersionConflict = -3,
  Duplicate = -4,
  InvalidArgument = -5,
  NotDelivered = -6,
}
