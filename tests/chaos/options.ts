/**
 * The chaos run's command line: `bun run chaos [--quick] [--seed N] [--minutes M] [--rate R] [--replicas N]
 * [--json] [--keep]`, or `bun run chaos --link [--seeds N] [--seed S] [--seconds T] [--json]` for the runtime against
 * a faulty Redis connection. Every setting of a run is here, derived from the flags, so the plan and the checks read one
 * object and a run is reproduced by its flags and its seed.
 */

export type ChaosOptions = {
  /** Seeds the fault plan and the orders; printed first and last, so a failing run can be replayed. */
  seed: number;
  quick: boolean;
  /** How long orders flow and faults are injected (ms). */
  chaosMs: number;
  /** Orders placed per second, steadily. */
  rate: number;
  /** Nodes per actor service (order, inventory, payment, shipping); 2 makes a paused node's partitions move. */
  replicas: number;
  /** Every saga must have ended this long after healing. */
  settleMs: number;
  /** Seconds between two kills: a uniform pick in [min, max]. */
  killEveryMs: { min: number; max: number };
  /** How many SIGSTOP/SIGCONT pauses past the lease TTL. */
  pauses: number;
  json: boolean;
  /** Keep the temporary directory (Redis data and the processes' log) even when the run passed. */
  keep: boolean;
  /**
   * Let drop rules hit every message of a service, not only what a saga re-sends (an experiment: Mailroom does not
   * promise to survive messages lost inside a service, see `DROPPABLE` in plan.ts).
   */
  dropAny: boolean;
  /** After healing, replay the dead letters injected faults caused, as an operator would (default yes). */
  replay: boolean;
  /** `--cluster`: the run on a local 3-master / 3-replica Redis Cluster, a master killed instead of Redis restarted. */
  cluster: boolean;
  /** `--link`: in-process nodes of a test service on faulty links (tests/chaos/link/), not the whole shop. */
  link: boolean;
  /** `--link`: how many seeds, from `seed` on. */
  seeds: number;
  /** `--link`: how long faults are injected per seed (ms). */
  linkMs: number;
  /** `--link`: how long after healing every check must pass (ms). */
  linkSettleMs: number;
};

const USAGE = `usage: bun run chaos [--cluster] [--quick] [--seed N] [--minutes M] [--rate R] [--replicas N] [--json] [--keep] [--drop-any] [--no-replay]
       bun run chaos --link [--seeds N] [--seed S] [--seconds T] [--json]
  --cluster     on a local 3-master / 3-replica Redis Cluster: a master is SIGKILLed (its replica cut off first)
                instead of Redis restarted; set MAILROOM_COMMIT_REPLICAS=1 for commits that wait for a replica
  --quick       a ~60 s run (what bun run test includes)
  --seed N      replay a run: the same faults at the same moments, the same orders (default: random)
  --minutes M   how long orders flow and faults are injected (default 10; --quick: 1)
  --rate R      orders per second (default 4; --quick: 2)
  --replicas N  nodes per actor service (default 2)
  --json        end with one line of JSON
  --keep        keep the temporary directory (Redis AOF, processes' log) even when the run passes
  --drop-any    an experiment: drop rules hit any message, also those no saga re-sends (expect violations)
  --no-replay   leave the dead letters of injected faults alone after healing (no operator)
  --link        the runtime on faulty Redis links: 2–3 in-process nodes of a test service on the Redis at REDIS_URL
                (default 127.0.0.1:6379, a key prefix per seed), calls failed, replies dropped, connections reset and
                stalled, leases stolen; then healed and checked (exactly-once adds, asks, timers, effects, events)
  --seeds N     --link: run N seeds, from --seed on (default 1)
  --seconds T   --link: seconds of faults per seed (default 4)`;

export class UsageError extends Error {}

/**
 * Reads the flags.
 *
 * @example
 * parseOptions(['--quick', '--seed', '7']).chaosMs; // 60_000
 */
export function parseOptions(argv: readonly string[]): ChaosOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"\n${USAGE}`);
    const name = arg.slice(2);
    if (['quick', 'json', 'keep', 'drop-any', 'no-replay', 'link', 'cluster'].includes(name)) flags.set(name, true);
    else if (['seed', 'minutes', 'rate', 'replicas', 'seeds', 'seconds'].includes(name)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value\n${USAGE}`);
      flags.set(name, value);
    } else throw new UsageError(`unknown flag --${name}\n${USAGE}`);
  }
  const number = (name: string, fallback: number, check: (n: number) => boolean, what: string) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !check(n)) throw new UsageError(`--${name} must be ${what}, got "${String(raw)}"`);
    return n;
  };
  const quick = flags.has('quick');
  const link = flags.has('link');
  for (const name of ['seeds', 'seconds']) if (!link && flags.has(name)) throw new UsageError(`--${name} goes with --link\n${USAGE}`);
  if (link) for (const name of ['quick', 'minutes', 'rate', 'replicas', 'keep', 'drop-any', 'no-replay', 'cluster']) if (flags.has(name)) throw new UsageError(`--${name} does not go with --link\n${USAGE}`);
  const seed = number('seed', Math.floor(Math.random() * 2 ** 31), (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 53, 'a whole number ≥ 0');
  const minutes = number('minutes', quick ? 1 : 10, (n) => n > 0 && n <= 24 * 60, 'a number of minutes above 0');
  return {
    seed,
    quick,
    chaosMs: Math.round(minutes * 60_000),
    rate: number('rate', quick ? 2 : 4, (n) => n > 0 && n <= 200, 'between 0 and 200'),
    replicas: number('replicas', 2, (n) => Number.isInteger(n) && n >= 1 && n <= 4, '1–4'),
    settleMs: 30_000,
    killEveryMs: { min: 5_000, max: 10_000 },
    pauses: quick ? 1 : Math.max(1, Math.round(minutes * 1.5)),
    json: flags.has('json'),
    keep: flags.has('keep'),
    dropAny: flags.has('drop-any'),
    replay: !flags.has('no-replay'),
    cluster: flags.has('cluster'),
    link,
    seeds: number('seeds', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000, 'a whole number from 1'),
    linkMs: Math.round(number('seconds', 4, (n) => n > 0 && n <= 600, 'a number of seconds above 0') * 1_000),
    linkSettleMs: 8_000,
  };
}
