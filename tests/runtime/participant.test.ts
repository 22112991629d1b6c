/**
 * The saga participant protocol (`runtime/saga/participant.ts`): what `answer`, `answerAsk` and `answerWaiters`
 * emit for the runtime to commit (a tell to `replyTo`, a reply to an ask), the waiter bookkeeping, and — on a real
 * node on Redis — that a participant's answer reaches both a saga-like actor and an asker.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { assign, createActor, setup } from 'xstate';
import {
  answer,
  createNode,
  defineActor,
  isAddress,
  participant,
  waiterOf,
  withWaiter,
  type MailroomNode,
  type Waiter,
} from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

type Reply = { type: 'thing.done'; commandId?: string; n: number } | { type: 'thing.refused'; commandId?: string; reason: string };
type Pending = { type: 'thing.pending'; commandId?: string };
type Ctx = { n: number; waiters: Waiter[] };
type Cmd = { type: 'do' | 'wait' | 'finish'; replyTo?: string; commandId?: string };

const thing = participant<Reply, Pending>();

/** A participant: `do` answers at once, `wait` answers the asker "pending" and waits, `finish` tells every waiter. */
const machine = setup({ types: {} as { context: Ctx; events: Cmd } }).createMachine({
  context: { n: 0, waiters: [] },
  on: {
    do: { actions: [assign({ n: ({ context }) => context.n + 1 }), thing.answer<Ctx, Cmd>(({ context, event }) => ({ type: 'thing.done', commandId: event.commandId, n: context.n }))] },
    wait: {
      actions: [
        assign({ waiters: ({ context, event }) => withWaiter(context.waiters, waiterOf(event)) }),
        thing.answerAsk<Ctx, Cmd>(({ event }) => ({ type: 'thing.pending', commandId: event.commandId })),
      ],
    },
    finish: {
      actions: [thing.answerWaiters((c: Ctx) => c.waiters, (c, waiter) => ({ type: 'thing.done', commandId: waiter.commandId, n: c.n })), assign({ waiters: [] })],
    },
  },
});

/** Runs `events` through the machine and returns what it emitted for the runtime, in order. */
function emitted(events: Cmd[]) {
  const actor = createActor(machine);
  const out: { type: string; to?: string; event?: unknown; data?: unknown; id?: string }[] = [];
  actor.on('*', (e: any) => void out.push(e));
  actor.start();
  for (const e of events) actor.send(e);
  actor.stop();
  return out;
}

describe('participant protocol', () => {
  it('should tell replyTo and reply to an ask with the same reply', () => {
    const out = emitted([{ type: 'do', replyTo: 'shop/saga/s1', commandId: 's1/do/1' }]);
    const reply = { type: 'thing.done', commandId: 's1/do/1', n: 1 };
    expect(out).toEqual([
      { type: '@mailroom.tell', to: 'shop/saga/s1', event: reply, id: undefined },
      { type: '@mailroom.reply', data: reply },
    ]);
  });

  it('should only reply when the command has no replyTo, or one that is not an actor address', () => {
    expect(emitted([{ type: 'do' }]).map((e) => e.type)).toEqual(['@mailroom.reply']);
    expect(emitted([{ type: 'do', replyTo: 'not-an-address' }]).map((e) => e.type)).toEqual(['@mailroom.reply']);
    expect(emitted([{ type: 'do', replyTo: 'a/b' }]).map((e) => e.type)).toEqual(['@mailroom.reply']);
  });

  it('should answer an ask "pending" without telling anyone, then tell each waiter once with its own commandId', () => {
    const out = emitted([
      { type: 'wait', replyTo: 'shop/saga/s1', commandId: 's1/do/1' },
      { type: 'wait', replyTo: 'shop/saga/s1', commandId: 's1/do/1' }, // a repeat waits once
      { type: 'wait', replyTo: 'shop/saga/s2', commandId: 's2/do/1' },
      { type: 'wait', commandId: 'ask-only' }, // an ask without replyTo: its handler reads the outcome
      { type: 'finish' },
    ]);
    expect(out.filter((e) => e.type === '@mailroom.reply').map((e) => (e.data as Pending).commandId)).toEqual(['s1/do/1', 's1/do/1', 's2/do/1', 'ask-only']);
    expect(out.filter((e) => e.type === '@mailroom.tell').map((e) => [e.to, e.event])).toEqual([
      ['shop/saga/s1', { type: 'thing.done', commandId: 's1/do/1', n: 0 }],
      ['shop/saga/s2', { type: 'thing.done', commandId: 's2/do/1', n: 0 }],
    ]);
  });

  it('should keep a waiter once and only the newest max of them', () => {
    const a = { replyTo: 'shop/saga/a', commandId: '1' };
    expect(withWaiter([a], { ...a })).toEqual([a]);
    expect(withWaiter([a], { replyTo: 'shop/saga/a', commandId: '2' })).toHaveLength(2);
    const many = Array.from({ length: 5 }, (_, i) => ({ replyTo: 'shop/saga/a', commandId: String(i) }));
    expect(many.reduce<Waiter[]>((list, w) => withWaiter(list, w, 3), []).map((w) => w.commandId)).toEqual(['2', '3', '4']);
  });

  it('should take only string fields into a waiter, and tell only actor addresses', () => {
    expect(waiterOf({ replyTo: 'shop/saga/a', commandId: 'c' })).toEqual({ replyTo: 'shop/saga/a', commandId: 'c' });
    expect(waiterOf({ replyTo: 42, commandId: null } as unknown as Waiter)).toEqual({});
    expect(isAddress('order/fulfillment/ord-1')).toBe(true);
    expect(isAddress('Order/fulfillment/ord-1')).toBe(false);
    expect(isAddress(undefined)).toBe(false);
  });

  // The failing side of this test is `tsc --noEmit` (CI's typecheck): the directive fails it if the line compiles.
  it('should reject a reply outside the participant’s union at compile time', () => {
    // @ts-expect-error 'thing.lost' is not one of the participant's replies
    const wrong = thing.answer(() => ({ type: 'thing.lost' }));
    expect(typeof wrong).toBe('function');
  });
});

describe('participant protocol on a node', () => {
  const prefix = testPrefix('participant');
  let node: MailroomNode | undefined;
  afterAll(async () => {
    await node?.stop();
    await cleanupPrefix(prefix);
  });

  it('should deliver one answer to the replyTo actor and to the asker', async () => {
    const worker = defineActor(
      'worker',
      setup({ types: {} as { context: { n: number }; events: Cmd } }).createMachine({
        context: { n: 0 },
        on: { do: { actions: [assign({ n: ({ context }) => context.n + 1 }), answer(({ context, event }: { context: { n: number }; event: Cmd }) => ({ type: 'thing.done', commandId: event.commandId, n: context.n }))] } },
      }),
    );
    const inbox = defineActor(
      'inbox',
      setup({ types: {} as { context: { got: unknown[] }; events: any } }).createMachine({
        context: { got: [] },
        on: { 'thing.done': { actions: assign({ got: ({ context, event }) => [...context.got, event] }) } },
      }),
    );
    node = await createNode({ service: 'p', actors: [worker, inbox], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
    const asked = await node.ask('p/worker/w1', { type: 'do', replyTo: 'p/inbox/i1', commandId: 'i1/do/1' }, { timeoutMs: 5_000 });
    expect(asked.reply).toEqual({ type: 'thing.done', commandId: 'i1/do/1', n: 1 });
    const told = await node.waitFor<{ got: unknown[] }>('p/inbox/i1', (v) => v.context.got.length > 0, { timeoutMs: 5_000 });
    expect(told.context.got).toEqual([{ type: 'thing.done', commandId: 'i1/do/1', n: 1 }]);
  });
});
