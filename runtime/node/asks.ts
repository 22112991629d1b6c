/**
 * Asks: a message with a reply-to, and the wait for the answer the turn that processed it commits. Answers reach
 * the asking node on its own pub/sub channel, or directly when the actor lives on the same node. On one Redis the
 * commit script publishes them (PUBLISH); on a cluster a channel is a sharded one (SSUBSCRIBE / SPUBLISH), which
 * lives in the slot of its name — the asker's, not the partition's — so the worker publishes it after the commit.
 */
import '../redis/tracing-channel.ts';
import { createClient, createCluster } from 'redis';
import { clusterOptions } from '../redis/cluster-link.ts';
import { isClusterUrl } from '../redis/cluster-url.ts';
import type { ReplyPayload } from './batch.ts';
import { newMessageId, type ReplyTo } from './envelope.ts';

export class AskTimeoutError extends Error {
  readonly code = 'ASK_TIMEOUT';
  readonly status = 504;
  constructor(
    readonly address: string,
    readonly eventType: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${address} to "${eventType}" within ${timeoutMs} ms (the message stays queued and may still be applied)`);
  }
}

export class AskFailedError extends Error {
  readonly code = 'ASK_FAILED';
  readonly status = 422;
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`${address}: ${message}`);
  }
}

type Waiter = { resolve: (p: ReplyPayload) => void; timer: ReturnType<typeof setTimeout> };

/** The asks of one node still waiting for their answer. */
export class PendingAsks {
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly nodeId: string) {}

  /** A new ask: its reply-to, and the answer (rejected with `AskTimeoutError` after `timeoutMs`). */
  open(address: string, eventType: string, timeoutMs: number): { replyTo: ReplyTo; answer: Promise<ReplyPayload> } {
    const q = newMessageId();
    const answer = new Promise<ReplyPayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(q);
        reject(new AskTimeoutError(address, eventType, timeoutMs));
      }, timeoutMs);
      this.waiting.set(q, { resolve, timer });
    });
    return { replyTo: { n: this.nodeId, q }, answer };
  }

  /** Gives up an ask whose message could not be sent. */
  cancel(q: string): void {
    const waiter = this.waiting.get(q);
    if (waiter) clearTimeout(waiter.timer);
    this.waiting.delete(q);
  }

  /** Resolves an ask of this node; false when the asker is another node. */
  resolve(to: ReplyTo, payload: ReplyPayload): boolean {
    if (to.n !== this.nodeId) return false;
    const waiter = this.waiting.get(to.q);
    if (waiter) {
      this.waiting.delete(to.q);
      clearTimeout(waiter.timer);
      waiter.resolve(payload);
    }
    return true;
  }

  clear(): void {
    for (const waiter of this.waiting.values()) clearTimeout(waiter.timer);
    this.waiting.clear();
  }
}

/** Who publishes replies to other nodes: the commit script (`script`, one Redis) or the worker after it (`after`, a cluster). */
export type ReplyMode = 'script' | 'after';

/** The reply mode for a Redis address. */
export function replyModeOf(url: string): ReplyMode {
  return isClusterUrl(url) ? 'after' : 'script';
}

/** Subscribes to a node's reply channel; returns a function that closes the subscription. */
export async function listenForReplies(url: string, channel: string, asks: PendingAsks, nodeId: string, onError: (error: unknown, where: string) => void): Promise<() => Promise<void>> {
  const onMessage = (message: string) => {
    try {
      const payload = JSON.parse(message) as ReplyPayload;
      asks.resolve({ n: nodeId, q: payload.q }, payload);
    } catch (error) {
      onError(error, 'reading a reply');
    }
  };
  if (isClusterUrl(url)) {
    const sub = createCluster(clusterOptions(url, true));
    sub.on('error', () => {});
    await sub.connect();
    await sub.sSubscribe(channel, onMessage);
    return async () => {
      await sub.close().catch(() => sub.destroy());
    };
  }
  const sub = createClient({ url, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** Math.min(n, 5), 1_000) } });
  sub.on('error', () => {});
  await sub.connect();
  await sub.subscribe(channel, onMessage);
  return async () => {
    await sub.quit().catch(() => sub.destroy());
  };
}
