/**
 * Writes inspection events to the shared capped stream the control plane tails, in batches (one entry holds a
 * JSON array of events), so watching the system costs one XADD per flush rather than one per event. Writing is
 * best effort and after the commit: a crash can lose the last ~100 ms of inspection, never a turn.
 */
import { redisUrlOf } from '../config.ts';
import type { InspectionEvent } from '../inspection.ts';
import type { RedisLink } from '../redis/link.ts';
import { countInspection } from '../observe/inspection-metrics.ts';

export type InspectStreamMode = 'all' | 'transitions' | 'off';

/** Events too frequent for the shared stream unless asked for (they still reach local listeners). */
const PER_MESSAGE = new Set<InspectionEvent['type']>(['message.sent', 'message.received']);

export class InspectionWriter {
  private buffer: InspectionEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly link: RedisLink,
    private readonly stream: string,
    readonly mode: InspectStreamMode,
    private readonly onError: (error: unknown, where: string) => void,
    private readonly maxLen = 100_000,
  ) {}

  add(event: InspectionEvent): void {
    if (this.mode === 'off') return;
    if (this.mode === 'transitions') {
      if (PER_MESSAGE.has(event.type)) return;
      if (event.type === 'actor.transition' && event.from === event.to) return;
    }
    this.buffer.push(event);
    if (this.buffer.length >= 500) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), 100);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return this.flushing;
    const events = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing
      .then(() => this.link.call(['XADD', this.stream, 'MAXLEN', '~', this.maxLen, '*', 'b', JSON.stringify(events)]))
      .then(
        () => {},
        (error) => this.onError(error, 'writing inspection events'),
      );
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/**
 * An inspection publisher for a process without a node (the gateway, the control plane, the supervisor): what it
 * records goes to the shared stream the panel follows.
 *
 * @example
 * const inspector = await openInspector({ source: 'gateway' });
 * createHttpClient({ source: 'gateway', dependencies, inspector: inspector.inspect });
 */
export async function openInspector(options: { source: string; redis?: string; keyPrefix?: string }): Promise<{ inspect: (event: InspectionEvent) => void; close(): Promise<void> }> {
  const { openLink } = await import('../redis/link.ts');
  const { globalKeys } = await import('../keys.ts');
  const { keyPrefixOf } = await import('../config.ts');
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  const writer = new InspectionWriter(link, globalKeys(options.keyPrefix ?? keyPrefixOf()).inspect, 'transitions', () => {});
  return {
    inspect: (event) => {
      countInspection(event);
      writer.add(event);
    },
    async close() {
      await writer.close();
      await link.close();
    },
  };
}
