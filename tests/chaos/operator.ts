/**
 * What an operator does once an incident is over: the dead letters whose turn failed only because a fault was
 * injected (every one of its deliveries hit an error rule) are replayed into their mailboxes, now that no rule is
 * left. Nothing in Mailroom retries a dead letter by itself — that is the point of one — so a message the run's
 * faults pushed there (a saga's fire-and-forget commit, a reservation's hold) would otherwise stay undone. Dead
 * letters with any other reason are left where they are, for the checks to report.
 */
import { createNode, type DeadLetter } from '../../runtime/index.ts';
import { SERVICE_NAMES } from '../../services/config.ts';

export type Replayed = DeadLetter & { service: string; event: { type?: string } };

/**
 * Replays every dead letter an injected fault explains; resolves with them.
 *
 * @example
 * const replayed = await replayInjectedDeadLetters(system.redisUrl, system.prefix);
 */
export async function replayInjectedDeadLetters(url: string, prefix: string): Promise<Replayed[]> {
  const replayed: Replayed[] = [];
  for (const service of SERVICE_NAMES) {
    const node = await createNode({ service, actors: [], consume: false, keyPrefix: prefix, redis: url, inspectStream: 'off' });
    try {
      for (const letter of await node.deadLetters.list({ count: 100_000 })) {
        if (!letter.error.includes('injected fault')) continue;
        await node.deadLetters.replay(letter.partition, letter.id);
        replayed.push({ ...letter, service, event: (letter.event ?? {}) as { type?: string } });
      }
    } finally {
      await node.stop();
    }
  }
  return replayed;
}
