/**
 * The live inspection stream as Server-Sent Events. Each message carries a batch — everything that arrived within
 * ~100 ms — as `data: [<event with its id>, …]` and `id: <the last event's id>`, so a browser's EventSource resumes
 * exactly after it (`Last-Event-ID`) when it reconnects: nothing lost, nothing repeated. A comment line every 15 s
 * keeps proxies from closing an idle stream; a Redis outage only pauses it (the tail keeps trying).
 */
import { tailInspection, type TailedEvent } from '../../runtime/ops/index.ts';
import { type InspectionEvent } from '../../runtime/index.ts';

export type EventFilter = (event: InspectionEvent) => boolean;

/**
 * A filter from the `type` and `source` query parameters: comma-separated, `saga.*` matches a family.
 *
 * @example
 * eventFilter('saga.*,breaker.transition', undefined)({ type: 'saga.step', … }); // true
 */
export function eventFilter(types: string | undefined, sources: string | undefined): EventFilter {
  const split = (raw: string | undefined) => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const exact = new Set<string>();
  const families: string[] = [];
  for (const type of split(types)) {
    if (type.endsWith('.*')) families.push(type.slice(0, -1));
    else exact.add(type);
  }
  const from = new Set(split(sources));
  return (event) =>
    (exact.size === 0 && families.length === 0 ? true : exact.has(event.type) || families.some((f) => event.type.startsWith(f))) &&
    (from.size === 0 || from.has(event.source));
}

/** An event as the panel receives it: the inspection event with its stream id. */
export const withId = ({ id, event }: TailedEvent) => ({ id, ...event });

export type StreamOptions = {
  redis: string;
  keyPrefix: string;
  /** Resume after this event id; `$` (the default) starts with what happens next. */
  from?: string;
  filter?: EventFilter;
  batchMs?: number;
  heartbeatMs?: number;
  /** Most events per message (a bigger backlog goes out as several messages). */
  maxBatch?: number;
  onClose?: () => void;
};

/**
 * The SSE body: a stream that tails the inspection stream until the client goes away.
 *
 * @example
 * return new Response(inspectionEventStream({ redis, keyPrefix, from: request.headers.get('last-event-id') ?? '$' }), {
 *   headers: { 'content-type': 'text/event-stream' } });
 */
export function inspectionEventStream(options: StreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const filter = options.filter ?? (() => true);
  const batchMs = options.batchMs ?? 100;
  const maxBatch = options.maxBatch ?? 500;
  let cursor = options.from ?? '$';
  let buffer: TailedEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let tail: { stop(): Promise<void> } | undefined;
  let stopped = false;
  let controller: ReadableStreamDefaultController<Uint8Array>;

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(flushTimer);
    clearInterval(heartbeat);
    void tail?.stop();
    options.onClose?.();
  };
  const send = (text: string) => {
    if (stopped) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      stop();
    }
  };
  const flush = () => {
    flushTimer = undefined;
    while (buffer.length > 0) {
      const batch = buffer.splice(0, maxBatch);
      send(`id: ${batch.at(-1)!.id}\ndata: ${JSON.stringify(batch.map(withId))}\n\n`);
    }
  };
  const follow = async () => {
    let said = false;
    while (!stopped) {
      try {
        const opened = await tailInspection({
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          from: cursor,
          onEvents: (events) => {
            for (const e of events) {
              cursor = e.id;
              if (filter(e.event)) buffer.push(e);
            }
            if (buffer.length > 0 && !flushTimer) flushTimer = setTimeout(flush, batchMs);
          },
        });
        if (stopped) return void opened.stop();
        tail = opened;
        return;
      } catch (error) {
        if (!said) send(`: redis unavailable (${error instanceof Error ? error.message : String(error)}); retrying\n\n`);
        said = true;
        await Bun.sleep(1_000);
      }
    }
  };

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      // `retry` tells EventSource how soon to reconnect after the connection drops.
      send(`retry: 1000\n: connected\n\n`);
      heartbeat = setInterval(() => send(`: heartbeat ${Date.now()}\n\n`), options.heartbeatMs ?? 15_000);
      void follow();
    },
    cancel() {
      stop();
    },
  });
}
