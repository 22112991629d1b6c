/**
 * Which actors of a partition may have a record in Redis, known to its owner so that a new actor's first message
 * costs no read. Only the lease holder's commits write a partition's records, and each commit that creates one
 * writes the actor's line in the partition's index too; so the index as a new owner finds it, plus every actor
 * this owner's commits may have written since, covers every record. The owner (one worker, one lease) scans the
 * index once, in the background (pages of `HSCAN`); until that scan is through — a failed one is tried again after a
 * pause — every actor is read, as before. What it learns only grows: an actor added
 * before a commit stays known whatever the commit's outcome, and an expired actor stays known (it is read, and
 * found gone).
 *
 * An actor this says is new is created fresh, at version 0, without reading (`HostedActor.unverified`), and the
 * commit's version check is the net under it: a record that exists after all (written by hand, outside any commit)
 * refuses that commit, which writes nothing, and the actor was added here before the commit went, so the retry reads
 * it. What no commit checks reads first: a message that failed on such an actor is tried again on its record before
 * it counts, and a repeat, a timer's firing and an effect's outcome come to actors that exist (`mayExist`).
 */
import type { RedisLink } from '../redis/link.ts';
import { BloomFilter } from './bloom-filter.ts';

/** Index lines a scan page asks for. */
const SCAN_COUNT = 1_000;

export class KnownActors {
  private readonly seen = new BloomFilter();
  private phase: 'unknown' | 'scanning' | 'known' = 'unknown';

  constructor(
    private readonly link: RedisLink,
    private readonly indexKey: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether the owner knows which actors exist (its scan of the index is through). */
  get ready(): boolean {
    return this.phase === 'known';
  }

  /**
   * Scans the index unless a scan is running or is through; `active` false stops it (the worker no longer owns the
   * partition). A failed scan is reported and tried again after a pause (1 s, doubling to 30 s) for as long as the
   * worker owns the partition. Resolves when the scan is through or stopped.
   */
  async scan(active: () => boolean): Promise<void> {
    if (this.phase !== 'unknown') return;
    this.phase = 'scanning';
    for (let failures = 0; active(); failures++) {
      try {
        let cursor = '0';
        do {
          const [next, flat] = (await this.link.call(['HSCAN', this.indexKey, cursor, 'COUNT', SCAN_COUNT])) as [string, string[]];
          if (!active()) break;
          for (let i = 0; i < flat.length; i += 2) this.seen.add(String(flat[i]));
          cursor = String(next);
        } while (cursor !== '0');
        if (active()) this.phase = 'known';
        break;
      } catch (error) {
        if (!active()) break;
        this.onError(error);
        // A pause that never keeps a stopping process alive.
        await new Promise((resolve) => (setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** failures)) as { unref?: () => void }).unref?.());
      }
    }
    if (this.phase === 'scanning') this.phase = 'unknown';
  }

  /**
   * False when the actor (its index field, `type/id`) certainly has no record: no index line named it at the scan
   * and no commit of this owner may have written it. True when it may, or when nothing is known yet.
   */
  mayExist(field: string): boolean {
    return this.phase !== 'known' || this.seen.has(field);
  }

  /** The actor's record may exist from now on: said before each commit that may write it, whatever its outcome. */
  add(field: string): void {
    this.seen.add(field);
  }
}
