/**
 * `bun run bench step [--json] [--rounds 7] [--events 20000] [--cold]`: what one actor turn costs in-process —
 * `HostedActor.step`, the runtime's step (XState's pure transition, every action captured, the record encoded) — next
 * to the floor under it: XState's transition alone (a reused scope, nothing captured) and that plus encoding the record
 * with XState's own `getPersistedSnapshot`. On two machines: the `bench mailbox` counter (one `inc` per turn on a
 * restored actor) and the order-fulfillment saga (new sagas run start to finish, seven turns each, telling, noting,
 * publishing, arming and cancelling timers).
 *
 * Prints the median CPU µs per event over the rounds (CPU time, not wall time: the machine may be shared) and the
 * step's ratio to each floor; `--json` adds a last line of JSON. (Session 14 measured here the step before and after
 * it moved from a live XState actor to the pure transition: docs/benchmarks.md.)
 */
import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { HostedActor } from '../../runtime/actor/hosted-actor.ts';
import type { ActorDefinition, MailroomEvent } from '../../runtime/actor/define-actor.ts';
import type { ActorRecord } from '../../runtime/actor/migration.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { counterActor } from './_counter-actor.ts';
import { numberFlag } from './_kit.ts';

const JSON_OUT = process.argv.includes('--json');

const rounds = numberFlag('rounds', 7);
const events = numberFlag('events', 20_000);

const hosted = (def: ActorDefinition, address: string, id: string, record: ActorRecord | null) => new HostedActor(def, address, id, record, record ? 1 : 0);

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
const counterTurns = () => {
  const actor = hosted(counter, 'bench/counter/c1', 'c1', counterRecord);
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

// A bench that measured sagas stuck half-way would measure nothing: each event must take the saga on, to its end.
{
  const actor = hosted(saga, 'order/fulfillment/check', 'check', null);
  for (const e of sagaEvents('check')) if (!actor.step(e).handled) throw new Error(`the saga did not take ${e.type} in ${actor.state}`);
  if (!actor.done) throw new Error(`the saga ended in ${actor.state}, not in its final state`);
}

const sagaTurns = () =>
  cpuPerEvent(sagaRuns * 7, () => {
    for (let i = 0; i < sagaRuns; i++) {
      const actor = hosted(saga, `order/fulfillment/s${i}`, `s${i}`, null);
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

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/**
 * `--cold`: the saga's step timed one by one (wall µs: the steps, not what runs between them) — sagas one after the
 * other, as the rows above; as a service takes them, many in flight and each step on another one; and that as a
 * process woken after others ran does, its caches evicted before each step by a walk of 1, 16 or 64 MB.
 */
const COLD = process.argv.includes('--cold');
/** Megabytes walked before each step: about a core's own cache, more than this machine's shared cache, and between. */
const EVICT_MB = [1, 16, 64];
const evict = new Float64Array(COLD ? Math.max(...EVICT_MB) * 128 * 1024 : 0);
let evicted = 0;
const coldSagas = Math.min(sagaRuns, 300);
/** Wall µs per step of `coldSagas` sagas: one after the other, or each step on the next saga, or that after a cache walk. */
const timedSteps = (order: 'in-a-row' | 'interleaved' | 'evicted', evictMb = 0) => () => {
  const actors: HostedActor[] = [];
  let spent = 0;
  const stepOne = (i: number, k: number) => {
    if (order === 'evicted') for (let j = 0, end = evictMb * 128 * 1024; j < end; j += 8) evicted += evict[j]!;
    const t = performance.now();
    // The ids the events' command ids name (see `sagaEvents`): else every reply would be another saga's, ignored.
    if (k === 0) actors[i] = hosted(saga, `order/fulfillment/s${i}`, `s${i}`, null);
    const out = actors[i]!.step(sagaLists[i]![k]!);
    spent += performance.now() - t;
    if (!out.handled) throw new Error(`saga s${i} did not take ${sagaLists[i]![k]!.type} in ${actors[i]!.state}`);
  };
  if (order === 'in-a-row') for (let i = 0; i < coldSagas; i++) for (let k = 0; k < 7; k++) stepOne(i, k);
  else for (let k = 0; k < 7; k++) for (let i = 0; i < coldSagas; i++) stepOne(i, k);
  return (1000 * spent) / (coldSagas * 7);
};

const cases: [string, () => number][] = [
  ['counter  HostedActor.step', counterTurns],
  ['counter  floor: machine.transition only', counterFloor(false)],
  ['counter  floor: + record JSON', counterFloor(true)],
  ['saga     HostedActor.step', sagaTurns],
  ['saga     floor: machine.transition only', sagaFloor(false)],
  ['saga     floor: + record JSON', sagaFloor(true)],
  ...(COLD
    ? ([
        [`saga     step, ${coldSagas} sagas in a row (wall)`, timedSteps('in-a-row')],
        [`saga     step, ${coldSagas} sagas interleaved (wall)`, timedSteps('interleaved')],
        ...EVICT_MB.map((mb) => [`saga     step, interleaved, ${mb} MB walked first (wall)`, timedSteps('evicted', mb)] as [string, () => number]),
      ] as [string, () => number][])
    : []),
];
// A warm-up round, then the rounds interleaved so a busy neighbour weighs on every case alike.
for (const [, run] of cases) run();
const samples = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) cases.forEach(([, run], i) => samples[i]!.push(run()));
const med = samples.map(median);
console.log(`CPU µs per event, median of ${rounds} rounds (${events} counter events, ${sagaRuns} sagas × 7 events per round)`);
cases.forEach(([name], i) => console.log(`${name.padEnd(40)} ${med[i]!.toFixed(2).padStart(6)}   (${samples[i]!.map((x) => x.toFixed(2)).join(' ')})`));
console.log(`counter: step / transition = ${(med[0]! / med[1]!).toFixed(2)}×, step / transition + JSON = ${(med[0]! / med[2]!).toFixed(2)}×`);
console.log(`saga:    step / transition = ${(med[3]! / med[4]!).toFixed(2)}×, step / transition + JSON = ${(med[3]! / med[5]!).toFixed(2)}×`);
// (`evicted` is read so the walks are not optimised away.)
if (COLD) {
  // The walks run between interleaved steps: each is set against those.
  const walked = EVICT_MB.map((mb, i) => `${mb} MB walked first ${(med[8 + i]! / med[7]!).toFixed(2)}×`).join(', ');
  console.log(`saga, wall per step: interleaved ${(med[7]! / med[6]!).toFixed(2)}× the steps in a row; against interleaved, ${walked}${Number.isNaN(evicted) ? '' : ''}`);
}
if (JSON_OUT) {
  const entry = (i: number) => ({ stepUs: med[i]!, transitionUs: med[i + 1]!, transitionAndJsonUs: med[i + 2]! });
  console.log(JSON.stringify({ bench: 'step', rounds, counter: entry(0), saga: entry(3), ...(COLD ? { sagaWallUs: { inARow: med[6], interleaved: med[7], walked: Object.fromEntries(EVICT_MB.map((mb, i) => [`${mb}MB`, med[8 + i]])) } } : {}) }));
}
