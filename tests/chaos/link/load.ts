/**
 * The clients of the link chaos run, sending through the faulty nodes themselves: adds to counters (`send` with a
 * unique id), pings (`ask` with a stable id), alarm arms and pays. A call that fails is retried with the same id
 * until it succeeds — the outcome of a failed call is unknown (it may have run), and only a retry with the same id is
 * safe; an ask is also retried, with its id, when no answer comes in time. What was sent is recorded for the checks.
 */
import { AskFailedError, seededRandom, type MailroomNode } from '../../../runtime/index.ts';
import { SERVICE } from './actors.ts';
import type { SchedulePlan } from './plan.ts';

export type LoadRecord = {
  /** Counter address → the adds it was sent (distinct message ids) and their sum. */
  adds: Map<string, { count: number; sum: number }>;
  /** Pinger address → distinct ask ids sent, and how many of them were answered. */
  asks: Map<string, { sent: number; answered: number }>;
  /** Ask ids never answered, with the last error. */
  unanswered: { address: string; id: string; error: string }[];
  /** Asks answered with a failure (a dead letter, an error), with the error. */
  askFailures: { address: string; id: string; error: string }[];
  arms: number;
  /** Payer addresses sent a `pay`. */
  pays: string[];
  /** Calls that failed and were retried with the same id. */
  retries: number;
  /** Sends still retrying when the load was stopped for good. */
  abandoned: number;
};

export type Load = { record: LoadRecord; stopSending(): void; finish(deadline: number): Promise<void> };

export function startLoad(nodes: readonly MailroomNode[], plan: SchedulePlan): Load {
  const random = seededRandom(plan.seed ^ 0x2545f491);
  const int = (n: number) => Math.floor(random() * n);
  const record: LoadRecord = { adds: new Map(), asks: new Map(), unanswered: [], askFailures: [], arms: 0, pays: [], retries: 0, abandoned: 0 };
  let sending = true;
  let deadline = Infinity;
  let seq = 0;
  const id = (kind: string) => `${plan.seed}:${kind}:${seq++}`;
  const node = () => nodes[int(nodes.length)]!;

  /** Sends until one attempt succeeds (same id every time); false if the deadline passed first. */
  const sendOnce = async (address: string, event: { type: string; [k: string]: unknown }, messageId: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await node().send(address, event, { id: messageId });
        return true;
      } catch {
        if (Date.now() > deadline) {
          record.abandoned++;
          return false;
        }
        record.retries++;
        await Bun.sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 5)));
      }
    }
  };

  const sender = async () => {
    while (sending) {
      const address = `${SERVICE}/counter/c${int(plan.counters)}`;
      const n = 1 + int(9);
      const ref = id('add');
      // Counted before sending: a send whose outcome stays unknown is retried until it lands.
      const tally = record.adds.get(address) ?? { count: 0, sum: 0 };
      tally.count++;
      tally.sum += n;
      record.adds.set(address, tally);
      await sendOnce(address, { type: 'add', n, ref }, ref);
    }
  };

  const asker = async () => {
    while (sending) {
      const address = `${SERVICE}/pinger/p${int(plan.pingers)}`;
      const askId = id('ping');
      const tally = record.asks.get(address) ?? { sent: 0, answered: 0 };
      tally.sent++;
      record.asks.set(address, tally);
      let last = '';
      for (let attempt = 0; ; attempt++) {
        try {
          await node().ask(address, { type: 'ping' }, { id: askId, timeoutMs: 1_000 });
          tally.answered++;
          break;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
          if (error instanceof AskFailedError) {
            record.askFailures.push({ address, id: askId, error: last });
            break;
          }
          if (Date.now() > deadline) {
            record.unanswered.push({ address, id: askId, error: last });
            break;
          }
          record.retries++;
          await Bun.sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 5)));
        }
      }
    }
  };

  const armer = async () => {
    while (sending) {
      const address = `${SERVICE}/alarm/a${int(plan.alarms)}`;
      record.arms++;
      await sendOnce(address, { type: 'arm', ms: 50 + int(400) }, id('arm'));
      await Bun.sleep(20 + int(80));
    }
  };

  const payer = async () => {
    for (let i = 0; i < plan.payers && sending; i++) {
      const address = `${SERVICE}/payer/f${i}`;
      record.pays.push(address);
      await sendOnce(address, { type: 'pay' }, `${plan.seed}:pay:${i}`);
      await Bun.sleep(30 + int(120));
    }
  };

  const loops = [
    ...Array.from({ length: plan.senders }, sender),
    ...Array.from({ length: plan.askers }, asker),
    armer(),
    payer(),
  ];
  return {
    record,
    stopSending() {
      sending = false;
    },
    /** Waits for the calls still retrying (they go through once the links heal), giving up at `until`. */
    async finish(until: number) {
      sending = false;
      deadline = until;
      await Promise.all(loops);
    },
  };
}
