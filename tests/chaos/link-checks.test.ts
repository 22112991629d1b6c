/**
 * The link chaos run's checks on hand-built worlds: a consistent one passes, and each broken promise — an add applied
 * twice, a tell never relayed, an ask applied twice, a timer fired twice, an outcome applied twice, an event missing
 * or out of order, an outbox entry left — is reported by its check; a gap notice excuses missing events.
 */
import { describe, expect, it } from 'bun:test';
import { checkLinkRun } from './link/checks.ts';
import type { EventWatch } from './link/event-watch.ts';
import type { ActorState, LinkFinalState } from './link/final-state.ts';
import type { LoadRecord } from './link/load.ts';

function world() {
  const record: LoadRecord = {
    adds: new Map([['lk/counter/c0', { count: 2, sum: 5 }]]),
    asks: new Map([['lk/pinger/p0', { sent: 3, answered: 3 }]]),
    unanswered: [],
    askFailures: [],
    arms: 2,
    pays: ['lk/payer/f0'],
    retries: 0,
    abandoned: 0,
  };
  const actor = <C>(state: string, context: C, effects: string[] = []): ActorState<C> => ({ state, context, effects });
  const state: LinkFinalState = {
    mailboxes: [{ partition: 0, pending: 0, undelivered: 0, outbox: 0, timers: 0, effects: 0 }],
    deadLetters: [],
    actors: new Map<string, ActorState<any>>([
      ['lk/counter/c0', actor('(root)', { address: 'lk/counter/c0', sum: 5, count: 2 })],
      ['lk/mirror/c0', actor('(root)', { sum: 5, count: 2 })],
      ['lk/pinger/p0', actor('(root)', { pings: 3 })],
      ['lk/alarm/a0', actor('idle', { armed: 2, fires: 2, delay: 100 })],
      ['lk/payer/f0', actor('paid', { outcomes: 1, strays: 0, key: 'fx:k' })],
    ]),
    ledger: new Map([['fx:k', 2]]),
  };
  const watch = {
    byAggregate: new Map([['lk/counter/c0', [{ id: 'e1', seq: 1 }, { id: 'e1', seq: 1 }, { id: 'e2', seq: 2 }]]]),
    gaps: [],
    deliveries: 3,
    errors: 0,
    distinct: () => 2,
    stop: async () => {},
  } as EventWatch;
  return { record, state, watch };
}

const checksOf = (w: ReturnType<typeof world>) => checkLinkRun(7, 4, w.record, w.state, w.watch).map((v) => v.check);
const ctx = (w: ReturnType<typeof world>, address: string) => w.state.actors.get(address)!.context;

describe('link chaos checks', () => {
  it('should find nothing wrong in a consistent world (a repeated event delivery and an effect run twice are allowed)', () => {
    expect(checkLinkRun(7, 4, world().record, world().state, world().watch)).toEqual([]);
  });

  it('should report an add applied twice, and a tell its mirror never got', () => {
    const w = world();
    ctx(w, 'lk/counter/c0').count = 3;
    expect(checksOf(w)).toContain('counters');
    const v = world();
    ctx(v, 'lk/mirror/c0').count = 1;
    expect(checksOf(v)).toEqual(['relay']);
  });

  it('should report an ask applied twice, and one never answered', () => {
    const w = world();
    ctx(w, 'lk/pinger/p0').pings = 4;
    expect(checksOf(w)).toEqual(['asks']);
    const v = world();
    v.record.unanswered.push({ address: 'lk/pinger/p0', id: 'x', error: 'timeout' });
    expect(checksOf(v)).toEqual(['asks']);
  });

  it('should report a timer fired twice, and an alarm still waiting', () => {
    const w = world();
    ctx(w, 'lk/alarm/a0').fires = 3;
    expect(checksOf(w)).toEqual(['timers']);
    const v = world();
    v.state.actors.get('lk/alarm/a0')!.state = 'waiting';
    expect(checksOf(v)).toEqual(['timers']);
  });

  it('should report an effect outcome applied twice, and one never applied', () => {
    const w = world();
    ctx(w, 'lk/payer/f0').strays = 1;
    expect(checksOf(w)).toEqual(['effects']);
    const v = world();
    v.state.actors.set('lk/payer/f0', { state: 'paying', context: { outcomes: 0, strays: 0, key: '' }, effects: ['fx:k'] });
    const found = checkLinkRun(7, 4, v.record, v.state, v.watch);
    expect(found.map((f) => f.check)).toEqual(['effects']);
    expect(found[0]!.detail).toContain('fx:k ran 2×');
  });

  it('should report an event missing, one out of order and one published twice; a gap notice excuses the missing', () => {
    const w = world();
    w.watch.byAggregate.set('lk/counter/c0', [{ id: 'e1', seq: 1 }]);
    expect(checksOf(w)).toEqual(['events']);
    w.watch.gaps.push({ id: 'g', type: 'mailroom.gap', aggregate: 'lk/counter/c0', at: 0, cause: '', position: '0:1-0' });
    expect(checksOf(w)).toEqual([]);
    const v = world();
    v.watch.byAggregate.set('lk/counter/c0', [{ id: 'e2', seq: 2 }, { id: 'e1', seq: 1 }]);
    expect(checksOf(v)).toEqual(['events']);
    const u = world();
    u.watch.byAggregate.set('lk/counter/c0', [{ id: 'e1', seq: 1 }, { id: 'e3', seq: 1 }, { id: 'e2', seq: 2 }]);
    expect(checksOf(u)).toEqual(['events']);
  });

  it('should report anything left in transit and any dead letter', () => {
    const w = world();
    w.state.mailboxes[0] = { partition: 0, pending: 1, undelivered: 0, outbox: 2, timers: 0, effects: 0 };
    w.state.deadLetters.push({ partition: 0, actor: 'lk/counter/c0', event: 'add', error: 'boom', deliveries: 5 });
    expect(checksOf(w)).toEqual(['mailboxes', 'mailboxes', 'deadletters']);
  });
});
