/**
 * The one blocking read of a subscriber: slices with nothing to read wait here, and one `XREAD BLOCK` on its own
 * connection watches all of them past the last id each has seen, so an idle subscriber sends one command per
 * `blockMs` instead of polling every slice. Only the waiting slices are watched: a busy slice's new entries do not
 * ring it. When a slice starts waiting during a read that does not watch it, the read is cut short
 * (`CLIENT UNBLOCK`) and started again with it.
 *
 * This is the subscriber's only command over several keys; reads, acks and gap checks are one slice each. On a
 * Redis Cluster the slices live in different slots, so each slice gets a doorbell of its own (`PerSliceDoorbells`):
 * one blocking read per slice, each on a link that connects only to its slice's master — and a doorbell that
 * watches one slice never needs cutting short.
 */
import { streamReadReply, type RedisLink } from '../redis/link.ts';

type Waiter = { after: string; wake: () => void };

/** What a slice reader waits on. */
export type SliceDoorbell = {
  /** Resolves once slice `partition` may have entries after `after` (or the doorbell stops). */
  wait(partition: number, after: string): Promise<void>;
  stop(): Promise<void>;
};

export class Doorbell implements SliceDoorbell {
  private readonly waiters = new Map<number, Waiter>();
  /** The slices the read in flight watches, or null when none is. */
  private watching: Set<number> | null = null;
  private round = 0;
  private clientId: number | null = null;
  private someoneWaits: (() => void) | null = null;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    /** Its own connection: a blocked read holds it. */
    private readonly blocking: RedisLink,
    /** Another connection, to cut the blocked read short. */
    private readonly control: RedisLink,
    private readonly streams: readonly string[],
    private readonly blockMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.loop = this.run();
  }

  /** Resolves once slice `partition` may have entries after `after` (or the doorbell stops). */
  wait(partition: number, after: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((wake) => {
      this.waiters.set(partition, { after, wake });
      if (this.someoneWaits) {
        this.someoneWaits();
        this.someoneWaits = null;
      } else if (this.watching && !this.watching.has(partition)) void this.interrupt(this.round);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.blocking.abort();
    this.someoneWaits?.();
    for (const w of this.waiters.values()) w.wake();
    this.waiters.clear();
    await this.loop;
  }

  private async interrupt(round: number): Promise<void> {
    // The read may not have reached the server yet (UNBLOCK then answers 0): try again while it is the same read.
    for (let i = 0; i < 50 && round === this.round && this.watching && !this.stopped; i++) {
      try {
        if (this.clientId !== null && Number(await this.control.call(['CLIENT', 'UNBLOCK', this.clientId])) === 1) return;
      } catch (error) {
        if (!this.stopped) this.onError(error);
        return;
      }
      await Bun.sleep(2);
    }
  }

  private async run(): Promise<void> {
    // One slice is never cut short (it is watched whenever it waits): no id needed, and none asked — on a cluster
    // a keyless CLIENT ID may not even reach the node the read blocks on.
    if (this.streams.length > 1) {
      try {
        this.clientId = Number(await this.blocking.call(['CLIENT', 'ID']));
      } catch (error) {
        if (!this.stopped) this.onError(error);
      }
    }
    while (!this.stopped) {
      if (this.waiters.size === 0) await new Promise<void>((r) => (this.someoneWaits = r));
      if (this.stopped) return;
      // Slices that found nothing tend to come together: let them, rather than restart the read for each.
      if (this.waiters.size < this.streams.length) await Bun.sleep(2);
      const watched = [...this.waiters.entries()];
      this.watching = new Set(watched.map(([p]) => p));
      this.round++;
      try {
        if (this.clientId === null && this.streams.length > 1) this.clientId = Number(await this.blocking.call(['CLIENT', 'ID']));
        const reply = await this.blocking.call([
          'XREAD', 'COUNT', 1, 'BLOCK', this.blockMs, 'STREAMS',
          ...watched.map(([p]) => this.streams[p]!),
          ...watched.map(([, w]) => w.after),
        ]);
        this.watching = null;
        for (const [stream] of streamReadReply(reply)) {
          const partition = this.streams.indexOf(stream);
          const waiter = this.waiters.get(partition);
          this.waiters.delete(partition);
          waiter?.wake();
        }
      } catch (error) {
        this.watching = null;
        if (this.stopped) return;
        this.onError(error);
        // The connection may have been replaced: ask its id again; meanwhile let every waiting slice look itself.
        this.clientId = null;
        for (const w of this.waiters.values()) w.wake();
        this.waiters.clear();
        await Bun.sleep(200);
      }
    }
  }
}

/**
 * One doorbell per slice, each on its own blocking link (a cluster's slices are in different slots).
 *
 * @example
 * const bells = await PerSliceDoorbells.open(streams, () => openLink(url, 'node-redis', { blocking: true }), control, 1_000, onError);
 * await bells.wait(3, lastId);
 */
export class PerSliceDoorbells implements SliceDoorbell {
  private constructor(private readonly bells: Doorbell[]) {}

  static async open(
    streams: readonly string[],
    openBlocking: () => Promise<RedisLink>,
    control: RedisLink,
    blockMs: number,
    onError: (error: unknown) => void,
  ): Promise<PerSliceDoorbells> {
    const bells: Doorbell[] = [];
    try {
      for (const stream of streams) bells.push(new Doorbell(await openBlocking(), control, [stream], blockMs, onError));
    } catch (error) {
      await Promise.all(bells.map((b) => b.stop()));
      throw error;
    }
    return new PerSliceDoorbells(bells);
  }

  wait(partition: number, after: string): Promise<void> {
    const bell = this.bells[partition];
    return bell ? bell.wait(0, after) : Promise.resolve();
  }

  async stop(): Promise<void> {
    await Promise.all(this.bells.map((b) => b.stop()));
  }
}
