/**
 * Lease loss at chosen moments: a fake node takes a partition's lease from outside — deletes the lease key and runs
 * the runtime's own acquire-lease script, so the fencing token moves on — holds it a little, then gives it back. The
 * real owner finds out when its next fenced call (read, commit, timer sweep, renewal) is refused, wherever it is in a
 * batch.
 */
import { seededRandom } from '../../../runtime/index.ts';
import { type RedisLink } from '../../../runtime/redis/index.ts';
import { partitionKeys } from '../../../runtime/keys.ts';
import { ScriptCode, scripts } from '../../../runtime/redis/script.ts';

export type Thief = {
  /** Stops stealing and waits for the lease in hand to be given back. */
  stop(): Promise<void>;
  readonly stolen: number;
  /** Attempts where a node took the freed lease before the thief could. */
  readonly missed: number;
};

export function startThief(options: {
  link: RedisLink;
  prefix: string;
  service: string;
  partitions: number;
  seed: number;
  everyMs: [number, number];
  holdMs: [number, number];
  onError: (error: unknown) => void;
}): Thief {
  const random = seededRandom(options.seed ^ 0x5bd1e995);
  const between = ([lo, hi]: [number, number]) => Math.round(lo + random() * (hi - lo));
  const thiefId = `thief-${options.seed}`;
  let stopped = false;
  let stolen = 0;
  let missed = 0;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
  const loop = (async () => {
    while (!stopped) {
      await sleep(between(options.everyMs));
      if (stopped) break;
      const partition = Math.floor(random() * options.partitions);
      const keys = partitionKeys(options.prefix, options.service, partition);
      try {
        await options.link.call(['DEL', keys.lease]);
        const res = (await scripts.acquireLease.run(options.link, [keys.lease, keys.fence], [thiefId, 5_000])) as [number, string | number];
        if (res[0] !== ScriptCode.Ok) {
          missed++;
          continue;
        }
        stolen++;
        const value = `${thiefId}|${res[1]}`;
        // Held without being interrupted by stop(): the lease always goes back.
        await Bun.sleep(between(options.holdMs));
        await scripts.releaseLease.run(options.link, [keys.lease], [value]);
      } catch (error) {
        options.onError(error);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
    get stolen() {
      return stolen;
    },
    get missed() {
      return missed;
    },
  };
}
