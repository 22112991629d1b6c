import { describe, expect, it } from 'bun:test';
import { assign, createActor, raise, sendTo, setup, type AnyMachineSnapshot } from 'xstate';
import { defineActor, effect, publish, tell } from '../../runtime/actor/define-actor.ts';
import { HostedActor, persisted, stateKey } from '../../runtime/actor/hosted-actor.ts';

/**
 * `HostedActor` steps its machine by XState's pure transition and encodes its record without XState's own
 * `getPersistedSnapshot`: both held here to what XState itself does, on a machine that uses what a hosted machine
 * may — entry actions, raised and self-sent events, eventless transitions, a history state, an invoked effect, an
 * actor reference in its context, a final state with an output.
 */
const machine = setup({
  actors: { work: effect(async ({ input }: { input: { n: number } }) => input.n) },
}).createMachine({
  id: 'job',
  context: ({ input }: { input: { id: string } }) => ({ id: input.id, n: 0, seen: [] as string[], ref: null as unknown }),
  initial: 'idle',
  entry: [assign({ seen: ({ context }) => [...context.seen, 'entry'] }), publish({ type: 'Created' })],
  output: ({ context }) => ({ n: context.n }),
  states: {
    idle: {
      on: {
        go: { target: 'busy', actions: assign({ n: ({ context }) => context.n + 1 }) },
        spawn: { actions: assign({ ref: ({ spawn }) => spawn('work', { id: 'spawned', input: { n: 7 } }) }) },
        echo: { actions: [raise({ type: 'raised' }), sendTo(({ self }) => self, { type: 'relayed' })] },
        raised: { actions: assign({ seen: ({ context }) => [...context.seen, 'raised'] }) },
        relayed: { actions: assign({ seen: ({ context }) => [...context.seen, 'relayed'] }) },
        finish: 'done',
      },
    },
    busy: {
      initial: 'one',
      invoke: { id: 'w', src: 'work', input: ({ context }) => ({ n: context.n }) },
      on: { pause: 'paused' },
      states: {
        one: { on: { next: 'two' } },
        two: { always: { guard: ({ context }) => context.n > 1, target: 'three' }, on: { next: 'three' } },
        three: { entry: tell(({ context }) => `other/thing/${context.id}`, { type: 'ping' }) },
        hist: { type: 'history', history: 'shallow' },
      },
    },
    paused: { on: { resume: 'busy.hist', go: 'idle' } },
    done: { type: 'final' },
  },
});
const def = defineActor('job', machine);
const events = [
  { type: 'spawn' },
  { type: 'echo' },
  { type: 'go' },
  { type: 'next' },
  { type: 'pause' },
  { type: 'resume' },
  { type: 'next' },
  { type: 'pause' },
  { type: 'go' },
  { type: 'go' },
  { type: 'next' },
  { type: 'pause' },
  { type: 'go' },
  { type: 'finish' },
];
/** Tokens and keys are unique per process and per call: what differs between two runs of the same steps. */
const stable = (json: string) => json.replace(/"(t|fx:[^"|]*\|[^"|]*\|)[0-9a-z]+\.[0-9a-z]+"/g, '"$1·"');

describe('HostedActor', () => {
  it("should encode each step's record exactly as XState's getPersistedSnapshot would", () => {
    const actor = new HostedActor(def, 'jobs/job/j1', 'j1', null, 0);
    let histories = 0;
    for (const event of events) {
      actor.step(event);
      const snapshot = actor.snapshot as AnyMachineSnapshot;
      expect(JSON.stringify(persisted(snapshot))).toBe(JSON.stringify(def.hosted.getPersistedSnapshot(snapshot)));
      histories += Object.keys(JSON.parse(actor.recordJson).s.historyValue).length;
    }
    // What the steps went through, so the comparison above covered each part of a snapshot.
    const record = JSON.parse(actor.recordJson);
    expect(record.s.status).toBe('done');
    expect(record.s.output).toEqual({ n: 2 });
    expect(histories).toBeGreaterThan(0);
    expect(record.s.context.ref).toEqual({ xstate$$type: 1, id: 'spawned' });
    expect(Object.keys(record.s.children)).toContain('spawned');
  });

  it('should reach the states and contexts a live XState actor reaches, and restore from its record to go on alike', () => {
    const live = createActor(def.hosted, { input: { id: 'j1', address: 'jobs/job/j1' } }).start();
    let hosted = new HostedActor(def, 'jobs/job/j1', 'j1', null, 0);
    const seen: string[] = [];
    events.forEach((event, i) => {
      live.send(event);
      hosted.step(event);
      const [a, b] = [live.getSnapshot(), hosted.snapshot as AnyMachineSnapshot];
      expect({ value: b.value, status: b.status, context: JSON.stringify(b.context) }).toEqual({ value: a.value, status: a.status, context: JSON.stringify(a.context) });
      seen.push(hosted.state);
      // Half way, the rest runs on an actor restored from the record, as a node that took the partition over would.
      if (i === 6) hosted = new HostedActor(def, 'jobs/job/j1', 'j1', JSON.parse(hosted.recordJson), 1);
    });
    live.stop();
    // The run visited the history state's target and the eventless transition, or the comparison proved less.
    expect(seen).toContain('busy.two');
    expect(seen).toContain('busy.three');
    expect((hosted.snapshot.context as { seen: string[] }).seen).toEqual(['entry', 'raised', 'relayed']);
  });

  it("should give a new actor's entry actions to its first step, and again after that step failed", () => {
    const actor = new HostedActor(def, 'jobs/job/j2', 'j2', null, 0);
    expect(() => actor.step({ type: 'go' }, { check: () => { throw new Error('not now'); } })).toThrow('not now');
    const out = actor.step({ type: 'go' });
    expect(out.published.map((e) => e.type)).toEqual(['Created']);
    expect(out.effectsStarted.map((e) => e.src)).toEqual(['work']);
    expect(stable(JSON.stringify(actor.step({ type: 'next' }).tells))).toBe('[]');
    expect(actor.state).toBe('busy.two');
  });

  it("should store its timers and effects in its record, and keep them when a step that would end them fails", () => {
    const waiter = defineActor(
      'waiter',
      setup({ actors: { work: effect(async () => 1) } }).createMachine({
        initial: 'idle',
        states: {
          idle: { on: { go: 'waiting' } },
          waiting: { invoke: { id: 'w', src: 'work' }, after: { 1000: 'late' }, on: { stop: 'idle' } },
          late: {},
        },
      }),
    );
    const actor = new HostedActor(waiter, 'jobs/waiter/w1', 'w1', null, 0);
    const armed = actor.step({ type: 'go' });
    const [arm] = armed.timersArmed;
    const [fx] = armed.effectsStarted;
    const stored = () => {
      const { t, f } = JSON.parse(actor.recordJson);
      return { t, f };
    };
    expect(stored()).toEqual({ t: { [arm!.token]: arm!.timerId }, f: { w: fx!.key } });
    expect(JSON.parse(actor.recordJson)).toEqual(JSON.parse(JSON.stringify(actor.record())));
    const recordWithBoth = actor.recordJson;
    // A step that would cancel both fails: the actor still has them, in memory and in what it stores next.
    expect(() => actor.step({ type: 'stop' }, { check: () => { throw new Error('refused'); } })).toThrow('refused');
    expect([actor.timerFor(arm!.token), actor.effectKey('w')]).toEqual([arm!.timerId, fx!.key]);
    const stopped = actor.step({ type: 'stop' });
    expect([stopped.timersCancelled, stopped.effectsStopped]).toEqual([[arm!.timerId], [fx!.key]]);
    expect(stored()).toEqual({ t: undefined, f: undefined });
    // Restored from the record that has both (as a node taking the partition over), it knows them again, and a step
    // that cancels them leaves them out of what it stores.
    const restored = new HostedActor(waiter, 'jobs/waiter/w1', 'w1', JSON.parse(recordWithBoth), 1);
    expect([restored.timerFor(arm!.token), restored.effectKey('w')]).toEqual([arm!.timerId, fx!.key]);
    const again = restored.step({ type: 'stop' });
    expect([again.timersCancelled, again.effectsStopped]).toEqual([[arm!.timerId], [fx!.key]]);
    expect(JSON.parse(restored.recordJson).t).toBeUndefined();
    expect(JSON.parse(restored.recordJson).f).toBeUndefined();
  });

  it('should leave a fired timer out of the record of the step its firing made, and keep it armed when that step fails', () => {
    const pinger = defineActor(
      'pinger',
      setup({}).createMachine({
        initial: 'idle',
        // a delayed raise whose firing leaves the state as it is: nothing cancels it, its firing is what ends it
        states: { idle: { on: { go: { actions: raise({ type: 'ping' }, { delay: 500, id: 'p' }) }, ping: { actions: assign({}) } } } },
      }),
    );
    const actor = new HostedActor(pinger, 'jobs/pinger/p1', 'p1', null, 0);
    const [arm] = actor.step({ type: 'go' }).timersArmed;
    expect(JSON.parse(actor.recordJson).t).toEqual({ [arm!.token]: 'p' });
    const firing = actor.firedEvent(arm!.token, arm!.event);
    expect(() => actor.step(firing, { fired: arm!.token, check: () => { throw new Error('refused'); } })).toThrow('refused');
    expect(actor.timerFor(arm!.token)).toBe('p');
    actor.step(firing, { fired: arm!.token });
    expect(actor.timerFor(arm!.token)).toBeUndefined();
    expect(JSON.parse(actor.recordJson).t).toBeUndefined();
  });

  it('should name a state value in one short string: a leaf, a path, parallel regions, the root of a stateless machine', () => {
    expect(['idle', { checkout: 'paying' }, { a: { b: 'c' } }, { left: 'on', right: { deep: 'off' } }, {}].map(stateKey)).toEqual([
      'idle',
      'checkout.paying',
      'a.b.c',
      '(left.on, right.deep.off)',
      '(root)',
    ]);
  });

  it('should take again a message whose step failed in a state that invokes an effect under a systemId', () => {
    const invoking = defineActor(
      'charger',
      setup({ actors: { charge: effect(async () => 1) } }).createMachine({
        initial: 'idle',
        states: { idle: { on: { go: 'charging' } }, charging: { invoke: { id: 'charge', systemId: 'charger', src: 'charge' } } },
      }),
    );
    const actor = new HostedActor(invoking, 'pay/charger/c1', 'c1', null, 0);
    // As the batch applier does when a step must read the record first: the step fails, and is taken again at once.
    expect(() => actor.step({ type: 'go' }, { check: () => { throw new Error('read the record first'); } })).toThrow('read the record first');
    const out = actor.step({ type: 'go' });
    expect([actor.state, out.effectsStarted.map((e) => e.src)]).toEqual(['charging', ['charge']]);
  });

  it("should take what a new actor's entry sends itself before its first message, as a live actor would on start", () => {
    const booting = defineActor(
      'booter',
      setup({}).createMachine({
        initial: 'starting',
        states: {
          starting: { entry: sendTo(({ self }) => self, { type: 'booted' }), on: { booted: 'ready', go: 'tooEarly' } },
          ready: { on: { go: 'working' } },
          tooEarly: {},
          working: {},
        },
      }),
    );
    const actor = new HostedActor(booting, 'b/booter/b1', 'b1', null, 0);
    const out = actor.step({ type: 'go' });
    expect([out.from, out.to]).toEqual(['ready', 'working']);
  });

  it('should fail a step that sends to self with self.send, or throws a value that is no error, naming what to use instead', () => {
    const wrong = defineActor(
      'wrong',
      setup({}).createMachine({
        on: {
          send: { actions: ({ self }) => self.send({ type: 'again' }) },
          throwNull: {
            actions: () => {
              throw null;
            },
          },
        },
      }),
    );
    const actor = new HostedActor(wrong, 'w/wrong/w1', 'w1', null, 0);
    expect(() => actor.step({ type: 'send' })).toThrow('use sendTo(({ self }) => self, …) or raise(…)');
    expect(() => actor.step({ type: 'throwNull' })).toThrow('failed on "throwNull"');
    // Neither left a trace: the actor takes its next message from where it was.
    expect(actor.step({ type: 'other' }).handled).toBe(false);
    expect(JSON.parse(actor.recordJson).s.status).toBe('active');
  });
});
