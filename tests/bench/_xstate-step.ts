/**
 * In-process microbenchmark of one actor turn, for issue #14: `HostedActor.step` (a live XState actor whose actions
 * are captured through its inspection callback) versus the same turn on XState's pure transition (`_pure-step-actor.ts`),
 * on two machines: the `bench mailbox` counter (one `inc` per turn on a restored actor) and the order-fulfillment saga
 * (new sagas run start to finish, seven turns each, telling, noting, publishing and arming and cancelling timers).
 * Two floors show what neither can save: XState's transition alone (with a reused scope, nothing captured) and that
 * plus encoding the record. XState's exported `transition()` is timed too: it builds an actor per call.
 *
 * Prints the median CPU µs per event over the rounds (CPU time, not wall time: the machine may be shared), and the
 * live / pure ratio. Both implementations are first checked to decide the same outputs and records.
 *
 * Run: bun tests/bench/_xstate-step.ts [--rounds 7] [--events 20000]
 */
import { createActor, setup, transition, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { HostedActor } from '../../runtime/actor/hosted-actor.ts';
import { defineActor, effect, reply, type ActorDefinition, type MailroomEvent } from '../../runtime/actor/define-actor.ts';
import type { ActorRecord } from '../../runtime/actor/migration.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { counterActor } from './_counter-actor.ts';
import { numberFlag } from './_kit.ts';
import { PureStepActor } from './_pure-step-actor.ts';

const rounds = numberFlag('rounds', 7);
const events = numberFlag('events', 20_000);

type Turns = { step(event: MailroomEvent): unknown; recordJson: string };
type Make = (def: ActorDefinition, address: string, id: string, record: ActorRecord | null) => Turns;
const live: Make = (def, address, id, record) => new HostedActor(def, address, id, record, record ? 1 : 0);
const pure: Make = (def, address, id, record) => new PureStepActor(def, address, id, record);

/** CPU µs per event of `run`, which processes `n` events. */
function cpuPerEvent(n: number, run: () => void): number {
  const since = process.cpuUsage();
  run();
  const used = process.cpuUsage(since);
  return (used.user + used.system) / n;
}

/** A scope for `machine.transition` that runs actions and drops what XState would defer: the floor of any turn. */
function bareScope(machine: AnyStateMachine, input: unknown): AnyActorScope {
  const self = createActor(machine, { input }) as any;
  const run = (a: { exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) => a.exec?.(a.info, a.params);
  return { self, id: self.id, sessionId: self.sessionId, logger: () => {}, system: self.system, defer: () => {}, emit: () => {}, stopChild: () => {}, actionExecutor: run as any };
}

const counter = counterActor();
const inc = { type: 'inc' };
const counterRecord: ActorRecord = { s: counter.hosted.getPersistedSnapshot(counter.hosted.resolveState({ value: {}, context: { n: 0 } })), m: 1 };

/** A restored counter taking `events` incs: the mailbox bench's turn. */
const counterTurns = (make: Make) => () => {
  const actor = make(counter, 'bench/counter/c1', 'c1', counterRecord);
  return cpuPerEvent(events, () => {
    for (let i = 0; i < events; i++) actor.step(inc);
  });
};

const counterFloor = (encode: boolean) => () => {
  const scope = bareScope(counter.hosted, undefined);
  let snapshot: AnyMachineSnapshot = counter.hosted.resolveState({ value: {}, context: { n: 0 } });
  return cpuPerEvent(events, () => {
    for (let i = 0; i < events; i++) {
      snapshot = counter.hosted.transition(snapshot, inc, scope);
      if (encode) JSON.stringify({ s: counter.hosted.getPersistedSnapshot(snapshot), m: 1 });
    }
  });
};

const counterExported = () => {
  let snapshot = counter.hosted.resolveState({ value: {}, context: { n: 0 } });
  return cpuPerEvent(events, () => {
    for (let i = 0; i < events; i++) [snapshot] = transition(counter.hosted, snapshot, inc as any);
  });
};

const saga = orderFulfillment.definition;
const sagaData = {
  orderId: 'o1',
  customer: { id: 'cus-1', name: 'Ada', email: 'ada@example.com' },
  lines: [{ sku: 'sku-1', qty: 2, price: 10 }],
  address: { line1: '1 Main St', city: 'Springfield', zip: '12345', country: 'US' },
  total: 20,
};
/** The happy path: each reply answers the attempt the saga waits for. */
const sagaEvents = (id: string): MailroomEvent[] => [
  { type: 'saga.start', data: sagaData },
  { type: 'order.created', commandId: `${id}/createOrder/1` },
  { type: 'inventory.reserved', commandId: `${id}/reserveInventory/1` },
  { type: 'payment.charged', commandId: `${id}/chargePayment/1`, chargeId: 'ch-1' },
  { type: 'shipping.scheduled', commandId: `${id}/scheduleShipment/1`, trackingId: 'tr-1' },
  { type: 'order.confirmed', commandId: `${id}/confirmOrder/1` },
  { type: 'inventory.committed', commandId: `${id}/commitInventory/0.1` },
];
// A saga lives a few turns, so creating it is part of its cost: each run is a new saga.
const sagaRuns = Math.max(1, Math.floor(events / 28));
const sagaLists = Array.from({ length: sagaRuns }, (_, i) => sagaEvents(`s${i}`));

const sagaTurns = (make: Make) => () =>
  cpuPerEvent(sagaRuns * 7, () => {
    for (let i = 0; i < sagaRuns; i++) {
      const actor = make(saga, `order/fulfillment/s${i}`, `s${i}`, null);
      for (const e of sagaLists[i]!) actor.step(e);
    }
  });

const sagaFloor = (encode: boolean) => () =>
  cpuPerEvent(sagaRuns * 7, () => {
    for (let i = 0; i < sagaRuns; i++) {
      const input = { id: `s${i}`, address: `order/fulfillment/s${i}` };
      const scope = bareScope(saga.hosted, input);
      let snapshot: AnyMachineSnapshot = saga.hosted.getInitialSnapshot(scope, input);
      for (const e of sagaLists[i]!) {
        snapshot = saga.hosted.transition(snapshot, e, scope);
        if (encode) JSON.stringify({ s: saga.hosted.getPersistedSnapshot(snapshot), m: 1 });
      }
    }
  });

/** Neither bench machine invokes an effect or replies: this one does, for `checkSame`. */
const worker = defineActor(
  'worker',
  setup({ actors: { work: effect(async ({ input }: { input: { n: number } }) => input.n) } }).createMachine({
    initial: 'idle',
    on: { ask: { actions: reply(({ event }) => ({ echo: event.n })) } },
    states: {
      idle: { on: { go: 'working' } },
      working: {
        invoke: { id: 'w', src: 'work', input: ({ event }) => ({ n: (event as { n?: number }).n ?? 0 }), onDone: 'idle' },
        after: { 1000: 'idle' },
        on: { stop: 'idle', restart: { target: 'working', reenter: true } },
      },
    },
  }),
);
const workerEvents: MailroomEvent[] = [{ type: 'go', n: 1 }, { type: 'ask', n: 2 }, { type: 'restart' }, { type: 'stop' }, { type: 'go' }, { type: 'xstate.done.actor.w', output: 0 }];

/** Both implementations must decide the same: same outputs and records, but for tokens and timestamps. */
function checkSame(): void {
  const strip = (v: unknown) =>
    (typeof v === 'string' ? v : JSON.stringify(v))
      .replace(/"(t|fx:[^"|]*\|[^"|]*\|)[0-9a-z]+\.[0-9a-z]+"/g, '"$1·"')
      .replace(/(\\?"(?:at|startedAt|stepStartedAt|finishedAt|durationMs)\\?"):\d+/g, '$1:0');
  const a = live(saga, 'order/fulfillment/x', 'x', null);
  const b = pure(saga, 'order/fulfillment/x', 'x', null);
  for (const e of sagaEvents('x')) {
    const [oa, ob] = [strip(a.step(e)), strip(b.step(e))];
    if (oa !== ob) throw new Error(`outputs differ on ${e.type}:\n${oa}\n${ob}`);
    if (strip(a.recordJson) !== strip(b.recordJson)) throw new Error(`records differ on ${e.type}:\n${strip(a.recordJson)}\n${strip(b.recordJson)}`);
  }
  const [w, x] = [live(worker, 'bench/worker/w1', 'w1', null), pure(worker, 'bench/worker/w1', 'w1', null)];
  for (const e of workerEvents) {
    const [ow, ox] = [strip(w.step(e)), strip(x.step(e))];
    if (ow !== ox) throw new Error(`worker outputs differ on ${e.type}:\n${ow}\n${ox}`);
    if (strip(w.recordJson) !== strip(x.recordJson)) throw new Error(`worker records differ on ${e.type}:\n${strip(w.recordJson)}\n${strip(x.recordJson)}`);
  }
  const [c, d] = [live(counter, 'bench/counter/c1', 'c1', counterRecord), pure(counter, 'bench/counter/c1', 'c1', counterRecord)];
  c.step(inc);
  d.step(inc);
  if (c.recordJson !== d.recordJson) throw new Error(`counter records differ:\n${c.recordJson}\n${d.recordJson}`);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

checkSame();
const cases: [string, () => number][] = [
  ['counter  HostedActor.step (live actor)', counterTurns(live)],
  ['counter  pure transition step', counterTurns(pure)],
  ['counter  floor: machine.transition only', counterFloor(false)],
  ['counter  floor: + record JSON', counterFloor(true)],
  ['counter  xstate transition() as exported', counterExported],
  ['saga     HostedActor.step (live actor)', sagaTurns(live)],
  ['saga     pure transition step', sagaTurns(pure)],
  ['saga     floor: machine.transition only', sagaFloor(false)],
  ['saga     floor: + record JSON', sagaFloor(true)],
];
// A warm-up round, then the rounds interleaved so a busy neighbour weighs on every case alike.
for (const [, run] of cases) run();
const samples = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) cases.forEach(([, run], i) => samples[i]!.push(run()));
const med = samples.map(median);
console.log(`CPU µs per event, median of ${rounds} rounds (${events} counter events, ${sagaRuns} sagas × 7 events per round)`);
cases.forEach(([name], i) => console.log(`${name.padEnd(44)} ${med[i]!.toFixed(2).padStart(6)}   (${samples[i]!.map((x) => x.toFixed(2)).join(' ')})`));
console.log(`counter: live / pure = ${(med[0]! / med[1]!).toFixed(2)}×`);
console.log(`saga:    live / pure = ${(med[5]! / med[6]!).toFixed(2)}×`);
