/**
 * Delivers a partition's committed outgoing messages to their mailboxes. Each commit's messages sit in the
 * partition's outbox stream until they are all delivered. Relays run one after another, in commit order; once
 * one fails, later commits are not relayed directly but left to the sweep, which delivers the outbox in order —
 * otherwise a sender's newer message could reach its receiver before an older one. The messages of one relay
 * for one mailbox go in one script call, so a relay that fails half-way never leaves a later message without the
 * earlier ones (a retry sends them again; the receiver drops repeats by message id).
 */
import type { RedisLink } from '../redis/link.ts';
import { scripts } from '../redis/script.ts';
import type { OutMsg } from './batch.ts';
import type { ReplicaWait } from './replica-wait.ts';

const SWEEP_PAGE = 500;

export class OutboxRelay {
  private chain: Promise<void> = Promise.resolve();
  /** Whether the outbox may hold entries no relay is delivering (after a failure, and at takeover). */
  dirty = true;

  constructor(
    private readonly link: RedisLink,
    private readonly outboxKey: string,
    /** Whether the partition is still ours: a worker that lost it or stopped relays nothing more. */
    private readonly active: () => boolean,
    private readonly onError: (error: unknown) => void,
    /** With `MAILROOM_COMMIT_REPLICAS`: deliveries go through its link and a replica must have them before the outbox lets go. */
    private readonly replicaWait: ReplicaWait | null = null,
  ) {}

  /** Delivers, then (with replicas to wait for) confirms every mailbox written: only then may the outbox entry go. */
  private async deliver(msgs: OutMsg[]): Promise<void> {
    if (!this.replicaWait) return void (await deliver(this.link, msgs));
    const wait = this.replicaWait;
    const mailboxes = await deliver(wait.link, msgs);
    await Promise.all(mailboxes.map((mbox) => wait.confirm(mbox, 'relayed messages')));
  }

  /** Relays one commit's messages after the relays before it, unless the sweep must deliver them in order. */
  committed(msgs: OutMsg[], outboxId: string): void {
    if (this.dirty) return;
    this.chain = this.chain.then(async () => {
      if (this.dirty || !this.active()) return;
      try {
        await this.deliver(msgs);
        await this.link.call(['XDEL', this.outboxKey, outboxId]);
      } catch (error) {
        this.dirty = true;
        this.onError(error);
      }
    });
  }

  /** Delivers what the outbox holds, oldest first, once the relays in flight are done. */
  async sweep(): Promise<void> {
    await this.chain;
    const entries = (await this.link.call(['XRANGE', this.outboxKey, '-', '+', 'COUNT', SWEEP_PAGE])) as [string, string[]][];
    for (const [id, fields] of entries) {
      await this.deliver(JSON.parse(fields[1] ?? '[]') as OutMsg[]);
      await this.link.call(['XDEL', this.outboxKey, id]);
    }
    this.dirty = entries.length === SWEEP_PAGE;
  }

  /** Resolves once the relays started so far are done (for a worker that stops). */
  settled(): Promise<void> {
    return this.chain;
  }
}

/** Appends messages to their mailboxes: one XADD for a lone message, one atomic script call per mailbox else. */
async function deliver(link: RedisLink, msgs: OutMsg[]): Promise<string[]> {
  const byMailbox = new Map<string, string[][]>();
  for (const m of msgs) {
    const list = byMailbox.get(m.mbox);
    if (list) list.push(m.fields);
    else byMailbox.set(m.mbox, [m.fields]);
  }
  await Promise.all(
    [...byMailbox].map(([mbox, list]) =>
      list.length === 1 ? link.call(['XADD', mbox, '*', ...list[0]!]) : scripts.relayMessages.run(link, [mbox], list.map((fields) => JSON.stringify(fields))),
    ),
  );
  return [...byMailbox.keys()];
}
