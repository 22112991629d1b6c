/**
 * The actor types of the link chaos run (service `lk`): each one counts what it applied, so the checks can compare
 * the committed state with what the clients sent. A counter adds, publishes each add as a numbered event and tells a
 * mirror (a message through the outbox relay); a pinger answers asks; an alarm arms a durable timer; a payer calls an
 * effect that records its idempotency key in Redis.
 */
import { createClient } from 'redis';
import { assign, setup } from 'xstate';
import { defineActor, effect, publish, reply, seededRandom, tell } from '../../../runtime/index.ts';

export const SERVICE = 'lk';

export type CounterContext = { address: string; sum: number; count: number };
export type MirrorContext = { sum: number; count: number };
export type PingerContext = { pings: number };
export type AlarmContext = { armed: number; fires: number; delay: number };
export type PayerContext = { outcomes: number; strays: number; key: string };

/** `add {n, ref}` → sum += n; publishes `Added {seq}` (1, 2, … per counter) and tells its mirror the same add. */
export const counter = defineActor(
  'counter',
  setup({ types: {} as { context: CounterContext; input: { id: string; address: string }; events: { type: 'add'; n: number; ref: string } } }).createMachine({
    context: ({ input }) => ({ address: input.address, sum: 0, count: 0 }),
    on: {
      add: {
        actions: [
          assign(({ context, event }) => ({ sum: context.sum + event.n, count: context.count + 1 })),
          publish(({ context, event }) => ({ type: 'Added', seq: context.count, n: event.n })),
          tell(({ context }) => context.address.replace('/counter/', '/mirror/'), ({ event }) => ({ type: 'add', n: event.n }), { id: ({ event }) => `mirror:${event.ref}` }),
        ],
      },
    },
  }),
);

/** Sums what its counter told it: the relay's exactly-once, seen from the receiving side. */
export const mirror = defineActor(
  'mirror',
  setup({ types: {} as { context: MirrorContext; events: { type: 'add'; n: number } } }).createMachine({
    context: { sum: 0, count: 0 },
    on: { add: { actions: assign(({ context, event }) => ({ sum: context.sum + event.n, count: context.count + 1 })) } },
  }),
);

/** `ping` → pings + 1, answered with the new count. */
export const pinger = defineActor(
  'pinger',
  setup({ types: {} as { context: PingerContext; events: { type: 'ping' } } }).createMachine({
    context: { pings: 0 },
    on: { ping: { actions: [assign(({ context }) => ({ pings: context.pings + 1 })), reply(({ context }) => context.pings)] } },
  }),
);

/** `arm {ms}` in idle → waiting; after `ms` it fires once and is idle again. An arm while waiting is ignored. */
export const alarm = defineActor(
  'alarm',
  setup({
    types: {} as { context: AlarmContext; events: { type: 'arm'; ms: number } },
    delays: { wait: ({ context }) => context.delay },
  }).createMachine({
    context: { armed: 0, fires: 0, delay: 0 },
    initial: 'idle',
    states: {
      idle: { on: { arm: { target: 'waiting', actions: assign(({ context, event }) => ({ armed: context.armed + 1, delay: event.ms })) } } },
      waiting: { after: { wait: { target: 'idle', actions: assign(({ context }) => ({ fires: context.fires + 1 })) } } },
    },
  }),
);

/**
 * `pay` → calls the `charge` effect, which records its idempotency key in the ledger hash and returns it → paid. An
 * outcome that arrives when the payer is no longer waiting for one counts as a stray (an outcome applied twice).
 */
export function makePayer(redisUrl: string, ledgerKey: string, seed: number) {
  let client: ReturnType<typeof createClient> | null = null;
  const random = seededRandom(seed);
  const actor = defineActor(
    'payer',
    setup({
      types: {} as { context: PayerContext; events: { type: 'pay' } | { type: 'xstate.done.actor.charge'; output: unknown } },
      actors: {
        charge: effect(async ({ idempotencyKey }: { input: unknown; idempotencyKey: string; signal: AbortSignal }) => {
          if (!client) {
            client = createClient({ url: redisUrl });
            client.on('error', () => {});
            await client.connect();
          }
          await Bun.sleep(Math.floor(random() * 150)); // a slow outside call: more chances for a takeover meanwhile
          await client.hIncrBy(ledgerKey, idempotencyKey, 1);
          return { key: idempotencyKey };
        }),
      },
    }).createMachine({
      context: { outcomes: 0, strays: 0, key: '' },
      initial: 'idle',
      on: { 'xstate.done.actor.charge': { actions: assign(({ context }) => ({ strays: context.strays + 1 })) } },
      states: {
        idle: { on: { pay: 'paying' } },
        paying: {
          invoke: {
            id: 'charge',
            src: 'charge',
            onDone: { target: 'paid', actions: assign(({ context, event }) => ({ outcomes: context.outcomes + 1, key: (event.output as { key: string }).key })) },
          },
        },
        paid: {},
      },
    }),
  );
  /** Closes the effect's Redis client (opened on first use). */
  const close = async () => {
    await client?.quit().catch(() => client?.destroy());
    client = null;
  };
  return { actor, close };
}
