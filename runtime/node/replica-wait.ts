/**
 * `MAILROOM_COMMIT_REPLICAS=N`: what a turn lets out (replies, relayed messages, effects) leaves only once its
 * commit has reached N replicas. Redis replicates asynchronously: a master that dies before its replica got a write
 * takes the write with it, and the replica promoted in its place never saw it. `WAIT N ms`, sent after the write on
 * the connection that made it, answers how many replicas have everything that connection wrote. Fewer than N means
 * the write is on the master and perhaps nowhere else: a failover may keep it or drop it, so the caller treats it as
 * an outcome it does not know (see `ReplicasUnconfirmedError`).
 *
 * The writes that must be confirmed go through a link of their own: a `WAIT` holds its connection until the
 * replicas answer or the timeout ends, and lease renewals on the node's main link must never queue behind it.
 */
import { isClusterUrl } from '../redis/cluster-url.ts';
import type { RedisLink } from '../redis/link.ts';

type Env = Record<string, string | undefined>;

/** How many replicas must confirm a commit, and how long to wait for them. */
export type CommitReplicas = { replicas: number; timeoutMs: number };

export const DEFAULT_REPLICA_TIMEOUT_MS = 500;

/**
 * A write reached fewer replicas than asked within the timeout. It is on the master; whether it survives a failover
 * is unknown, so nothing that depends on it may leave yet (the partition worker takes its partition over again).
 */
export class ReplicasUnconfirmedError extends Error {
  readonly code = 'REPLICAS_UNCONFIRMED';
  constructor(
    readonly what: string,
    readonly confirmed: number,
    readonly wanted: number,
    readonly timeoutMs: number,
  ) {
    super(`${what}: ${confirmed} of ${wanted} replica(s) confirmed it within ${timeoutMs} ms (MAILROOM_COMMIT_REPLICAS); its outcome is unknown until a replica has it`);
    this.name = 'ReplicasUnconfirmedError';
  }
}

/**
 * `MAILROOM_COMMIT_REPLICAS` (0 = off, the default) and `MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS` (default 500).
 *
 * @example
 * commitReplicasFromEnv({ MAILROOM_COMMIT_REPLICAS: '1' }); // { replicas: 1, timeoutMs: 500 }
 */
export function commitReplicasFromEnv(env: Env = process.env): CommitReplicas {
  const whole = (name: string, value: string | undefined, fallback: number, min: number, max: number) => {
    const raw = value?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${raw} must be a whole number from ${min} to ${max}`);
    return n;
  };
  return {
    replicas: whole('MAILROOM_COMMIT_REPLICAS', env.MAILROOM_COMMIT_REPLICAS, 0, 0, 5),
    timeoutMs: whole('MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS', env.MAILROOM_COMMIT_REPLICAS_TIMEOUT_MS, DEFAULT_REPLICA_TIMEOUT_MS, 1, 60_000),
  };
}

/** Waits for replicas on one link: every write made through `link` before `confirm` is what it confirms. */
export class ReplicaWait {
  constructor(
    readonly link: RedisLink,
    readonly replicas: number,
    readonly timeoutMs: number,
  ) {}

  /**
   * Resolves once the writes this link made to the master of `key`'s slot reached the replicas; throws
   * `ReplicasUnconfirmedError` when fewer answered within the timeout.
   *
   * @example
   * await wait.link.call(['XADD', mbox, '*', 'a', '1']);
   * await wait.confirm(mbox, 'a message'); // the XADD is on a replica too
   */
  async confirm(key: string, what: string): Promise<void> {
    const confirmed = Number(await this.link.call(['WAIT', this.replicas, this.timeoutMs], key));
    if (confirmed < this.replicas) throw new ReplicasUnconfirmedError(what, confirmed, this.replicas, this.timeoutMs);
  }

  /**
   * Confirms everything the master of `counterKey`'s slot holds now, whoever wrote it: `WAIT` only covers this
   * connection's own writes, so it first makes one that changes nothing (`INCRBY counterKey 0`, a write Redis
   * replicates all the same) — after it in the replication stream comes nothing older.
   */
  async confirmAll(counterKey: string, what: string): Promise<void> {
    await this.link.call(['INCRBY', counterKey, 0]);
    await this.confirm(counterKey, what);
  }
}

/**
 * Refuses, with a reason a person can act on, a Redis that cannot confirm `replicas` replicas: a standalone Redis
 * answers every `WAIT` with 0, so every commit would stay unconfirmed and nothing would ever leave. One Redis must
 * have that many connected replicas; a cluster must have that many nodes per master besides the masters (counted
 * whatever their state, so a node that is failing over or rejoining still counts and a restart in the middle of a
 * failover is not refused).
 */
export async function checkReplicas(link: RedisLink, url: string, replicas: number): Promise<void> {
  const where = url.replace(/\/\/[^@/]*@/, '//');
  if (isClusterUrl(url)) {
    const lines = String(await link.call(['CLUSTER', 'NODES'])).split('\n').filter((l) => l.trim() !== '');
    const masters = lines.filter((l) => l.split(' ')[2]!.includes('master') && l.split(' ').length > 8).length;
    if (lines.length >= masters * (1 + replicas)) return;
    throw new Error(`MAILROOM_COMMIT_REPLICAS=${replicas} needs ${replicas} replica(s) per master, and the cluster at ${where} has ${lines.length} node(s) for ${masters} master(s); add replicas or unset MAILROOM_COMMIT_REPLICAS`);
  }
  const info = String(await link.call(['INFO', 'replication']));
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const role = field('role') ?? '?';
  const connected = Number(field('connected_slaves') ?? 0);
  if (role === 'master' && connected >= replicas) return;
  throw new Error(
    `MAILROOM_COMMIT_REPLICAS=${replicas} needs a Redis with ${replicas} connected replica(s), and ${where} has ${connected} (role ${role}): a Redis without replicas answers every WAIT with 0, so no commit could ever be confirmed. Unset MAILROOM_COMMIT_REPLICAS, or give this Redis a replica (or run on a cluster with replicas)`,
  );
}
