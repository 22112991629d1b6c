/**
 * `bun run bench saga [--json] [--duration 20] [--rates 50,200,500,1000] [--concurrency 64] [--warmup 3]
 * [--no-full-speed] [--no-overload] [--overload-rate N] [--profile DIR] [--fsync off|always] [--mixed] [--vs restate] [--together]
 * [--tail-linger 20]`: how many
 * order-fulfillment sagas the shop completes, and how fast.
 *
 * Every process of the shop — order (hosting the sagas), inventory, payment, shipping, the payment provider and the
 * gateway — runs as its own Bun process on one private redis-server (persistence off; `REDIS_URL` if set). SKUs are
 * restocked generously first. Orders (one line, one unit, SKUs in turn) go in through `POST /api/orders` with an
 * Idempotency-Key, so each order id is known before its request leaves:
 *   fixed rates   open loop: `--rates` orders per second for `--duration` s each, then a drain
 *   full speed    closed loop: `--concurrency` clients, each placing its next order once its last one is confirmed
 *                 (a client refused at the door tries again 50 ms later)
 *   overload      open loop at twice the peak just measured (`--overload-rate` to choose), for `--duration` s:
 *                 admission control must refuse what the shop cannot take (429 with Retry-After), keep the accepted
 *                 orders' latency, and keep Redis's memory flat (used_memory before the phase and as its last
 *                 order is answered, when the mailboxes would hold any backlog). What Redis holds is also read by
 *                 family before the phase and once it has drained (`_redis-memory.ts`): the mailboxes' bytes then
 *                 and as the last order is answered, and what each accepted saga left (its actors' records and
 *                 version histories, kept for their types' retention)
 * A saga's end-to-end latency is from the moment its POST leaves this process to the commit of the turn that
 * confirmed its order: the `at` of its `OrderConfirmed` event, which this process reads from the order service's
 * event log with `tailEvents` (so its own lag does not count; it is shown apart). In an open-loop phase the tail
 * waits `--tail-linger` ms after each read that brought events, so that Redis does not wake for each of them on the
 * bench's account (its lag, shown apart, includes the wait); 0 reads at once, as the closed loop always does. Completed
 * sagas/s = confirmed orders of a phase over the time from its first request to its last confirmation. Per phase the
 * table also shows the CPU time each process spent per completed saga (from /proc), which is where the time goes,
 * and, for Mailroom, how often each process's main thread (Redis's too) slept and was woken per saga.
 * `--profile DIR`: order, inventory and payment run under `bun --cpu-prof`; their profiles are summarised at the end
 * (profiling slows them: take figures from a run without it).
 * `--fsync always`: the private Redis runs with `--appendonly yes --appendfsync always` (every write on disk before
 * its answer). `--vs restate`: each phase (default rates 50,200) runs on the Restate peer too (`_restate.ts`), in
 * the same run, interleaved — the two taking turns going first, as the shared machine's load drifts over minutes —
 * with Mailroom's Redis at `--fsync always` to match Restate's log fsyncing each
 * write, and both systems get the comparison's mix of orders (1–3 SKUs, ~10 % failing at shipping; `_orders.ts`);
 * `--mixed` gives Mailroom alone that mix. `--together`: order, inventory, payment and shipping run in one Bun process
 * (`_together.ts`), to measure what fewer processes save; its CPU and wake-ups are shown as order's.
 */
import { RedisClient } from 'bun';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tailEvents, type DomainEvent } from '../../runtime/index.ts';
import { orderIdFor } from '../../services/gateway/order-routes.ts';
import { benchRedis, deletePrefix, flag, numberFlag, percentile, preciseNow, waitForQuiet, type Quiet } from './_kit.ts';
import { benchOrder, vsRestate } from './_orders.ts';
import { bytesOf, MEMORY_FAMILIES, memoryByFamily, type MemoryByFamily, type MemoryFamily } from './_redis-memory.ts';
import { summarise } from './_profile-summary.ts';
import { RESTATE_PROCESSES, startRestatePeer, type RestatePeer } from './_restate.ts';
import { processDiskBytes, processWakeUps, SHOP, startBenchShop, type ShopName } from './_shop.ts';

const json = process.argv.includes('--json');
const VS = flag('vs');
if (VS !== undefined && VS !== 'restate') throw new Error(`--vs takes "restate", got "${VS}"`);
const FSYNC = flag('fsync', VS ? 'always' : 'off');
if (FSYNC !== 'off' && FSYNC !== 'always') throw new Error(`--fsync takes off or always, got "${FSYNC}"`);
if (VS && FSYNC !== 'always') throw new Error('--vs restate compares at equal durability: it runs Mailroom with --fsync always');
/** The comparison's mix of orders (1–3 SKUs, every 10th failing at shipping): always with --vs, or asked for. */
const MIXED = VS !== undefined || process.argv.includes('--mixed');
const DURATION_S = numberFlag('duration', 20);
const RATES = flag('rates', VS ? '50,200' : '50,200,500,1000')
  .split(',')
  .filter(Boolean)
  .map((r) => {
    const rate = Number(r);
    if (!(rate > 0)) throw new Error(`--rates takes positive numbers, got "${r}"`);
    return rate;
  });
const CONCURRENCY = numberFlag('concurrency', 64);
const WARMUP_S = numberFlag('warmup', 3);
/** How long the bench's tail of the order log waits after each read in an open-loop phase (see `tailLingerMs`). */
const OPEN_LOOP_TAIL_LINGER_MS = numberFlag('tail-linger', 20);
const FULL_SPEED = !process.argv.includes('--no-full-speed');
const OVERLOAD = !process.argv.includes('--no-overload') && !VS;
const OVERLOAD_RATE = flag('overload-rate');
const DRAIN_MS = 30_000;
const PROFILE_DIR = flag('profile');
const PROFILED: ShopName[] = ['order', 'inventory', 'payment'];
/** The services whose actors take turns (their turns, commits and local messages are counted per phase). */
const ACTOR_SERVICES = ['order', 'inventory', 'payment', 'shipping'] as const;
const TOGETHER = process.argv.includes('--together');

const redis = await benchRedis({ fsync: FSYNC });
const prefix = `bench-saga-${process.pid}`;
let stopShop: () => Promise<void> = async () => {};
const onSignal = () => void Promise.all([stopShop(), peer?.stop()]).finally(() => redis.stop().finally(() => process.exit(130)));
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

type Phase = {
  system: 'mailroom' | 'restate';
  label: string;
  rate: number | null;
  sent: number;
  accepted: number;
  rejected: number;
  confirmed: number;
  cancelled: number;
  unfinished: number;
  completedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  acceptP99Ms: number;
  /** p99 ms of the answers that were not a 202 (a refusal at the door should cost next to nothing). */
  refuseP99Ms: number;
  /** Requests not accepted, by status (or the fetch error). */
  refusedBy: Record<string, number>;
  lagP99Ms: number;
  /** CPU ms per confirmed saga of each process (the shop's, or Restate's), the Redis server, and this one. */
  cpuMsPerSaga: Record<string, number>;
  /** p50 / p99 ms of each part of a saga's latency, from the logs of a sample of its confirmed sagas. */
  breakdown: Record<string, [number, number]>;
  /**
   * Mailroom's phases: of `cpuMsPerSaga`, what each Bun process spent off its main thread — its JIT compilers above
   * all, which compile the hot code through the first minute or so under load (then GC helpers, the HTTP client).
   */
  offMainMsPerSaga?: Record<string, number>;
  /** Mailroom's phases: how often each process's main thread (Redis's too) fell asleep and was woken, per saga. */
  wakeUpsPerSaga?: Record<string, number>;
  /**
   * Mailroom's phases, per actor service and per saga: turns, committed batches, and messages its batches applied
   * themselves without the mailbox (local delivery), from the services' own `/metrics`.
   */
  turnsPerSaga?: Record<string, TurnCounts>;
  /**
   * With `--vs`: CPU (in cores) the other system's processes used during this phase while they had nothing to do —
   * work left from their own phases (a log compacting, a backlog) that this system's phase ran beside.
   */
  besideCores?: number;
  /** With `--vs`: MB a second the other system's processes wrote to disk during this phase (a log flushing, compacting). */
  besideWriteMBps?: number;
  /** What the systems under test (both, and Redis) did in the last second before the phase began, and how long the bench waited for them to quiet. */
  quietBefore?: Quiet;
  /** KB the Redis server wrote to disk per confirmed saga (its AOF, in pages: each fsync writes the page it appended to again; ~0 with persistence off); NaN when it cannot be read. */
  redisDiskKBPerSaga: number;
};

/** The parts of a saga's latency: until the saga started, then each step as its log times it. */
const PARTS = ['start', 'createOrder', 'reserveInventory', 'chargePayment', 'scheduleShipment', 'confirmOrder'] as const;

/** Redis's calls and µs per command over Mailroom's measured phases only. */
const commandTotals = new Map<string, { calls: number; usec: number }>();
const loadBefore = loadavg()[0]!;
const began = Date.now();
const phases: Phase[] = [];
/** The overload phase (kept apart from the rates), and Redis's used memory before it and as its last order was answered. */
let overload: { phase: Phase; memoryMiB: [number, number]; byFamily: [MemoryByFamily, MemoryByFamily]; mailboxBytesAtLastAnswer: number } | null = null;
const profiles: string[] = [];
let peer: RestatePeer | null = null;
/**
 * Beside Restate, which sheds no load, Mailroom runs without its in-flight limit (unless the environment sets one):
 * the comparison is of capacity, and the limit trades peak throughput for latency (docs/admission-control.md).
 */
const PEER_ENV: Record<string, string> = VS === 'restate' && process.env.MAILROOM_ADMISSION_TARGET_MS === undefined ? { MAILROOM_ADMISSION_TARGET_MS: '0' } : {};
const shop = await startBenchShop({ redis: redis.url, prefix, profileDir: PROFILE_DIR, profiled: PROFILED, env: PEER_ENV, together: TOGETHER });
stopShop = () => shop.stop();
const redisClient = new RedisClient(redis.url);

try {
  await redisClient.connect();
  const prices = ((await (await fetch(shop.url('inventory', '/skus'))).json()) as { items: { sku: string; price: number }[] }).items.map(({ sku, price }) => ({ sku, price }));
  const skus = prices.map((s) => s.sku);
  for (const sku of skus) {
    const res = await fetch(shop.url('inventory', `/skus/${sku}/restock`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qty: 100_000 }) });
    if (res.status !== 200) throw new Error(`restocking ${sku}: ${res.status} ${await res.text()}`);
  }

  // What the order service's event log says about each order: when its confirming turn ran, or that it was cancelled.
  const confirmedAt = new Map<string, number>();
  const cancelled = new Set<string>();
  const lag: number[] = [];
  const waiting = new Map<string, () => void>();
  /** Accepted orders not yet confirmed or cancelled. */
  const pending = new Set<string>();
  // A tail, not a consumer group: a group acks every event, and on a Redis that fsyncs every write (`--fsync always`,
  // `--vs restate`) those acks made the bench's own reading lag by seconds — and its closed-loop clients, who wait to
  // hear of their order's end, with it.
  // In an open-loop phase nobody waits to hear of an order's end (its latency is the event's own commit time), so the
  // tail lingers after each read: Redis and the bench wake ~50 times a second for it, not once per event, and what
  // Redis spends on the bench's reading stays out of Mailroom's figures (its lag, shown apart, includes the linger).
  let tailLingerMs = 0;
  const subscription = await tailEvents({
    service: 'order',
    redis: redis.url,
    keyPrefix: prefix,
    blockMs: 100,
    lingerMs: () => tailLingerMs,
    onEvent: (event: DomainEvent) => {
      if (event.type !== 'OrderConfirmed' && event.type !== 'OrderCancelled') return;
      const orderId = String(event.orderId);
      if (event.type === 'OrderConfirmed') {
        confirmedAt.set(orderId, event.at);
        lag.push(preciseNow() - event.at);
      } else cancelled.add(orderId);
      pending.delete(orderId);
      waiting.get(orderId)?.();
      waiting.delete(orderId);
    },
    onError: (error) => process.stderr.write(`[bench] event subscription: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  const settled = (orderId: string) => confirmedAt.has(orderId) || cancelled.has(orderId);

  const sentAt = new Map<string, number>();
  const acceptMs: number[] = [];
  const refuseMs: number[] = [];
  /** Why requests were not accepted (status and code, or the fetch error), per phase. */
  const rejections = new Map<string, number>();
  let n = 0;
  const placeUrl = shop.url('gateway', '/api/orders');
  /**
   * Places one order; resolves with its id if the gateway accepted it (202), else null. `onRefused` hears how long
   * the answer's Retry-After asks the client to wait (ms; 0 without one).
   */
  async function place(phase: string, onRefused?: (retryAfterMs: number) => void): Promise<string | null> {
    const i = n++;
    const key = `bench-${phase.replace(/[^A-Za-z0-9]+/g, '_')}-${i}`;
    const orderId = orderIdFor(key);
    const order = benchOrder(i, skus, MIXED);
    const body = JSON.stringify({
      customer: { name: 'Bench Customer', email: 'bench@example.com' },
      lines: order.lines,
      address: { name: 'Bench Customer', line1: '1 Load Street', city: 'London', country: order.country },
    });
    const started = preciseNow();
    sentAt.set(orderId, started);
    try {
      const res = await fetch(placeUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
      const answer = await res.arrayBuffer();
      (res.status === 202 ? acceptMs : refuseMs).push(preciseNow() - started);
      if (res.status === 202) {
        if (!settled(orderId)) pending.add(orderId);
        return orderId;
      }
      let code = '';
      try {
        const body = JSON.parse(new TextDecoder().decode(answer)) as { code?: string; details?: { reason?: string; cause?: string } };
        code = [body.code, body.details?.reason ?? body.details?.cause].filter(Boolean).join(' ');
      } catch {}
      const why = `${res.status} ${code}`.trim();
      rejections.set(why, (rejections.get(why) ?? 0) + 1);
      onRefused?.(Number(res.headers.get('retry-after') ?? 0) * 1000);
      return null;
    } catch (error) {
      rejections.set(String(error), (rejections.get(String(error)) ?? 0) + 1);
      return null;
    }
  }

  /**
   * The same order on the Restate peer: its call is answered once the saga has settled, so the order counts as
   * accepted once sent, and settles (confirmed at the answer's arrival, or cancelled) when the answer comes.
   */
  async function placeOnRestate(phase: string): Promise<string | null> {
    const i = n++;
    const key = `bench-${phase.replace(/[^A-Za-z0-9]+/g, '_')}-${i}`;
    const orderId = orderIdFor(key);
    sentAt.set(orderId, preciseNow());
    pending.add(orderId);
    void peer!.place(orderId, key, benchOrder(i, skus, MIXED)).then((outcome) => {
      if (outcome.state === 'confirmed') confirmedAt.set(orderId, preciseNow());
      else if (outcome.state === 'cancelled') cancelled.add(orderId);
      else rejections.set(outcome.why, (rejections.get(outcome.why) ?? 0) + 1);
      pending.delete(orderId);
      waiting.get(orderId)?.();
      waiting.delete(orderId);
    });
    return orderId;
  }

  type System = {
    name: Phase['system'];
    place: (phase: string, onRefused?: (retryAfterMs: number) => void) => Promise<string | null>;
    cpuMs: () => Record<string, number>;
    diskBytes: () => Record<string, number>;
  };
  const mailroom: System = { name: 'mailroom', place, cpuMs: () => shop.cpuMs(), diskBytes: () => shop.diskBytes() };
  let system = mailroom;

  /** Runs one phase and measures it: `drive` places orders and returns the ids, then every accepted one is awaited. */
  async function measure(label: string, rate: number | null, drive: (accepted: string[]) => Promise<number>): Promise<Phase> {
    const cpuBefore = system.cpuMs();
    const others = systems.filter((s) => s !== system);
    const besideBefore = others.map((s) => s.cpuMs());
    const besideDiskBefore = others.map((s) => s.diskBytes());
    const benchBefore = process.cpuUsage();
    const redisBefore = await redisCpuMs();
    const diskBefore = await redisDiskBytes();
    const wakesBefore = system === mailroom ? { ...shop.wakeUps(), redis: await redisWakeUps() } : null;
    const mainBefore = system === mailroom ? shop.mainThreadMs() : null;
    const turnsBefore = system === mailroom ? await turnCounts(shop.url) : null;
    lag.length = 0;
    acceptMs.length = 0;
    refuseMs.length = 0;
    rejections.clear();
    const accepted: string[] = [];
    const first = preciseNow();
    const sent = await drive(accepted);
    const drainUntil = Date.now() + DRAIN_MS;
    while (accepted.some((id) => !settled(id)) && Date.now() < drainUntil) await Bun.sleep(20);
    const cpuAfter = system.cpuMs();
    // Processes both systems use (the payment provider) count for the phase's own system only.
    const own = new Set(Object.keys(cpuAfter));
    const besideMs = others.reduce((sum, s, i) => sum + total(s.cpuMs(), own) - total(besideBefore[i]!, own), 0);
    const besideBytes = others.reduce((sum, s, i) => sum + total(s.diskBytes(), own) - total(besideDiskBefore[i]!, own), 0);
    const benchCpu = process.cpuUsage(benchBefore);
    const redisAfter = await redisCpuMs();
    const diskAfter = await redisDiskBytes();
    const wakesAfter = system === mailroom ? { ...shop.wakeUps(), redis: await redisWakeUps() } : null;
    const mainAfter = system === mailroom ? shop.mainThreadMs() : null;
    const turnsAfter = system === mailroom ? await turnCounts(shop.url) : null;
    const done = accepted.filter((id) => confirmedAt.has(id));
    const latencies = Float64Array.from(done.map((id) => confirmedAt.get(id)! - sentAt.get(id)!)).sort();
    const last = Math.max(...done.map((id) => confirmedAt.get(id)!));
    const perSaga = (ms: number) => (done.length ? ms / done.length : NaN);
    const breakdown = system.name === 'mailroom' ? await latencyBreakdown(done) : {};
    const phase: Phase = {
      system: system.name,
      label,
      rate,
      sent,
      accepted: accepted.length,
      rejected: sent - accepted.length,
      confirmed: done.length,
      cancelled: accepted.filter((id) => cancelled.has(id)).length,
      unfinished: accepted.filter((id) => !settled(id)).length,
      completedPerSec: done.length / ((last - first) / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      acceptP99Ms: percentile(Float64Array.from(acceptMs).sort(), 99),
      refuseP99Ms: percentile(Float64Array.from(refuseMs).sort(), 99),
      refusedBy: Object.fromEntries(rejections),
      lagP99Ms: percentile(Float64Array.from(lag).sort(), 99),
      cpuMsPerSaga: {
        ...Object.fromEntries(Object.keys(cpuAfter).map((name) => [name, perSaga(cpuAfter[name]! - cpuBefore[name]!)])),
        redis: perSaga(redisAfter - redisBefore),
        bench: perSaga((benchCpu.user + benchCpu.system) / 1000),
      },
      breakdown,
      ...(mainBefore && mainAfter
        ? {
            offMainMsPerSaga: Object.fromEntries(
              Object.keys(mainAfter).map((name) => [name, perSaga(cpuAfter[name]! - cpuBefore[name]! - (mainAfter[name as ShopName] - mainBefore[name as ShopName]))]),
            ),
          }
        : {}),
      ...(wakesBefore && wakesAfter
        ? { wakeUpsPerSaga: Object.fromEntries(Object.entries(wakesAfter).map(([name, n]) => [name, perSaga(n - wakesBefore[name as keyof typeof wakesBefore])])) }
        : {}),
      ...(turnsBefore && turnsAfter
        ? {
            turnsPerSaga: Object.fromEntries(
              ACTOR_SERVICES.map((name) => {
                const [b, a] = [turnsBefore[name]!, turnsAfter[name]!];
                return [name, { turns: perSaga(a.turns - b.turns), commits: perSaga(a.commits - b.commits), local: perSaga(a.local - b.local) }];
              }),
            ),
          }
        : {}),
      besideCores: others.length ? besideMs / (preciseNow() - first) : undefined,
      besideWriteMBps: others.length ? besideBytes / 1e3 / (preciseNow() - first) : undefined,
      redisDiskKBPerSaga: perSaga((diskAfter - diskBefore) / 1024),
    };
    console.log(
      `  ${label.padEnd(22)} ${fmt(phase.completedPerSec).padStart(7)} sagas/s   p50 ${ms(phase.p50Ms).padStart(6)} ms   p99 ${ms(phase.p99Ms).padStart(6)} ms   ` +
        `${phase.confirmed}/${phase.sent} confirmed, ${phase.rejected} rejected, ${phase.cancelled} cancelled, ${phase.unfinished} unfinished` +
        (rejections.size ? ` (rejected: ${[...rejections].map(([why, count]) => `${count} × ${why}`).join(', ')})` : '') +
        (phase.besideCores !== undefined ? `; beside it, the other system's processes used ${phase.besideCores.toFixed(2)} cores and wrote ${phase.besideWriteMBps!.toFixed(1)} MB/s to disk` : ''),
    );
    return phase;
  }

  /** Where a phase's latency went: the saga logs of up to 200 of its confirmed sagas, spread over the phase. */
  async function latencyBreakdown(done: string[]): Promise<Record<string, [number, number]>> {
    const sample = done.filter((_, i) => i % Math.max(1, Math.floor(done.length / 200)) === 0).slice(0, 200);
    const parts = new Map<string, number[]>(PARTS.map((p) => [p, []]));
    await Promise.all(
      sample.map(async (orderId) => {
        const saga = (await (await fetch(shop.url('order', `/sagas/${orderId}`))).json()) as { startedAt: number; log: { step: string; phase: string; durationMs?: number }[] };
        parts.get('start')!.push(saga.startedAt - sentAt.get(orderId)!);
        for (const entry of saga.log) if (entry.phase === 'succeeded' && entry.durationMs !== undefined) parts.get(entry.step)?.push(entry.durationMs);
      }),
    );
    return Object.fromEntries(
      [...parts].map(([part, xs]) => {
        const sorted = Float64Array.from(xs).sort();
        return [part, [percentile(sorted, 50), percentile(sorted, 99)]];
      }),
    );
  }

  /** Open loop: `rate` orders per second, on schedule whatever the answers, for `seconds`. */
  const fixedRate = (rate: number, seconds: number, label: string, onSent?: () => Promise<void>) =>
    measure(label, rate, async (accepted) => {
      const total = Math.round(rate * seconds);
      const inFlight: Promise<void>[] = [];
      const t0 = preciseNow();
      let sent = 0;
      tailLingerMs = OPEN_LOOP_TAIL_LINGER_MS;
      try {
        while (sent < total) {
          const due = Math.min(total, Math.floor(((preciseNow() - t0) * rate) / 1000) + 1);
          for (; sent < due; sent++) inFlight.push(system.place(label).then((id) => void (id && accepted.push(id))));
          await Bun.sleep(1);
        }
        await Promise.all(inFlight);
        await onSent?.();
      } finally {
        tailLingerMs = 0;
      }
      return total;
    });

  /**
   * Closed loop: `clients` clients, each placing its next order once the last one is confirmed (or cancelled), or
   * after the wait a refusal asks for.
   */
  const fullSpeed = (clients: number, seconds: number) =>
    measure(`${system.name === 'restate' ? 'restate ' : ''}full speed (${clients} clients)`, null, async (accepted) => {
      const end = preciseNow() + seconds * 1000;
      let sent = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (preciseNow() < end) {
            sent++;
            // A refused client waits as Retry-After asks (at most 1 s, so that the phase stays saturated; 50 ms
            // without one): hammering a gateway that refuses only spends its CPU on refusals.
            let waitMs = 50;
            const id = await system.place(`${system.name}-full`, (retryAfterMs) => (waitMs = Math.min(1_000, Math.max(50, retryAfterMs))));
            if (!id) {
              await Bun.sleep(waitMs);
              continue;
            }
            accepted.push(id);
            if (!settled(id)) await new Promise<void>((resolve) => {
              waiting.set(id, resolve);
              setTimeout(resolve, DRAIN_MS);
            });
          }
        }),
      );
      return sent;
    });

  const durability = process.env.REDIS_URL ? ' (REDIS_URL: its own persistence; --fsync not applied)' : FSYNC === 'always' ? ' (private, AOF fsynced always)' : ' (private, persistence off)';
  console.log(
    `saga: ${TOGETHER ? 'the shop in three processes (order, inventory, payment, shipping in one; --together)' : 'all six processes'} on ${redis.url}${durability}, ` +
      `rates ${RATES.join(', ')}/s × ${DURATION_S} s${FULL_SPEED ? `, full speed with ${CONCURRENCY} clients` : ''}, load average ${loadBefore.toFixed(2)}` +
      (PROFILE_DIR ? `, ${PROFILED.join(', ')} under bun --cpu-prof` : '') +
      (process.env.MAILROOM_PARTITIONS ? `, MAILROOM_PARTITIONS=${process.env.MAILROOM_PARTITIONS}` : '') +
      (process.env.MAILROOM_REDIS_CLIENT ? `, MAILROOM_REDIS_CLIENT=${process.env.MAILROOM_REDIS_CLIENT}` : '') +
      (process.env.MAILROOM_DELIVERY ? `, MAILROOM_DELIVERY=${process.env.MAILROOM_DELIVERY}` : ''),
  );
  /** After an overloaded phase, lets the backlog clear (uncounted) so the next phase starts from an idle shop. */
  const settleBacklog = async () => {
    const until = Date.now() + 180_000;
    while (pending.size > 0 && Date.now() < until) await Bun.sleep(100);
  };
  const systems: System[] = [mailroom];
  if (VS === 'restate') {
    peer = await startRestatePeer({ redis: redis.url, prefix: `${prefix}-restate`, skus: prices, stock: 100_000 });
    systems.push({ name: 'restate', place: placeOnRestate, cpuMs: () => peer!.cpuMs(), diskBytes: () => peer!.diskBytes() });
    console.log(
      `restate ${peer.version}: restate-server (log fsynced on every write, its default), the SDK endpoint on Bun, Mailroom's payment provider; ` +
        'phases interleaved, the two systems taking turns going first, so that both meet the same machine' +
        (PEER_ENV.MAILROOM_ADMISSION_TARGET_MS ? "; Mailroom without the gateway's in-flight limit (MAILROOM_ADMISSION_TARGET_MS=0: Restate sheds no load either)" : ''),
    );
  }
  /** One phase on each system in turn (the `k`th pair in alternating order); Mailroom's Redis commands are counted. */
  const onEach = async (k: number, run: () => Promise<Phase>) => {
    for (const next of k % 2 === 0 ? systems : [...systems].reverse()) {
      system = next;
      const quiet = await waitForQuiet(async () => ({
        cpuMs: systems.reduce((sum, s) => sum + total(s.cpuMs(), new Set()), 0) + (await redisCpuMs()),
        diskBytes: systems.reduce((sum, s) => sum + total(s.diskBytes(), new Set()), 0) + (await redisDiskBytes()),
      }));
      if (quiet.waitedMs > 3_000)
        console.log(`  (waited ${(quiet.waitedMs / 1000).toFixed(0)} s for the systems under test to quiet before the next phase; their last second: ${quiet.cores.toFixed(2)} cores, ${quiet.writeMBps.toFixed(1)} MB/s written to disk)`);
      const before = system === mailroom ? await commandStats() : null;
      phases.push({ ...(await run()), quietBefore: quiet });
      if (before) for (const [command, after] of await commandStats()) {
        const b = before.get(command) ?? { calls: 0, usec: 0 };
        const total = commandTotals.get(command) ?? { calls: 0, usec: 0 };
        commandTotals.set(command, { calls: total.calls + after.calls - b.calls, usec: total.usec + after.usec - b.usec });
      }
      await settleBacklog();
    }
  };
  if (WARMUP_S > 0) {
    for (const next of systems) {
      system = next;
      await fixedRate(100, WARMUP_S, `${next === mailroom ? '' : `${next.name} `}warm-up (not counted)`);
    }
  }
  for (const [k, rate] of RATES.entries()) await onEach(k, () => fixedRate(rate, DURATION_S, `${system === mailroom ? '' : `${system.name} `}${fmt(rate)}/s`));
  if (FULL_SPEED) await onEach(RATES.length, () => fullSpeed(CONCURRENCY, DURATION_S));
  const measuredPeak = peakOf(phases.filter((p) => p.system === 'mailroom'));
  const overloadRate = OVERLOAD_RATE ? Number(OVERLOAD_RATE) : Math.round(2 * measuredPeak);
  if (OVERLOAD && overloadRate > 0) {
    const familiesBefore = await memoryByFamily(redisClient, prefix);
    const before = await redisMemoryMiB();
    let atLastAnswer = NaN;
    let mailboxBytesAtLastAnswer = NaN;
    const phase = await fixedRate(overloadRate, DURATION_S, `overload ${fmt(overloadRate)}/s`, async () => {
      atLastAnswer = await redisMemoryMiB();
      mailboxBytesAtLastAnswer = await bytesOf(redisClient, familiesBefore.mailboxKeys);
    });
    phases.push(phase);
    await settleBacklog();
    overload = { phase, memoryMiB: [before, atLastAnswer], byFamily: [familiesBefore, await memoryByFamily(redisClient, prefix)], mailboxBytesAtLastAnswer };
  }
  await subscription.stop();
} finally {
  redisClient.close();
  await shop.stop();
  await peer?.stop();
  if (PROFILE_DIR) {
    for (const name of PROFILED) {
      const dir = join(PROFILE_DIR, name);
      const file = readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      profiles.push(file ? `── ${name}: ${file}\n${summarise(JSON.parse(readFileSync(file, 'utf8')), 15)}` : `── ${name}: no profile was written`);
    }
  }
  if (!process.env.REDIS_URL) await redis.stop();
  else await deletePrefix(redis.url, prefix);
}

/** A figure (CPU ms, bytes) of a system's processes, summed, leaving out those named in `except`. */
function total(cpu: Record<string, number>, except: Set<string>): number {
  return Object.entries(cpu).reduce((sum, [name, ms]) => (except.has(name) ? sum : sum + ms), 0);
}

/** Redis's used_memory, in MiB. */
async function redisMemoryMiB(): Promise<number> {
  const info = String(await redisClient.send('INFO', ['memory']));
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 2 ** 20;
}

/** A figure of the Redis server's own process read from /proc (`read` of its pid); NaN when it cannot be read (a remote Redis). */
async function ofRedisProcess(read: (pid: number) => number): Promise<number> {
  const pid = /process_id:(\d+)/.exec(String(await redisClient.send('INFO', ['server'])))?.[1];
  return pid ? read(Number(pid)) : NaN;
}

/** Bytes the Redis server's main process has written to disk (a rewrite's child is not counted). */
function redisDiskBytes(): Promise<number> {
  return ofRedisProcess(processDiskBytes);
}

/** Times the Redis server's main thread has gone to sleep and been woken (`processWakeUps`). */
function redisWakeUps(): Promise<number> {
  return ofRedisProcess(processWakeUps);
}

/** CPU ms the Redis server has used so far. */
async function redisCpuMs(): Promise<number> {
  const info = String(await redisClient.send('INFO', ['cpu']));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Redis's own count of calls and µs per command (INFO commandstats; a script's commands count on their own too). */
async function commandStats(): Promise<Map<string, { calls: number; usec: number }>> {
  const info = String(await redisClient.send('INFO', ['commandstats']));
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return stats;
}

type TurnCounts = { turns: number; commits: number; local: number };

/** Turns, committed batches and locally applied messages so far, per actor service (each one's `/metrics`). */
async function turnCounts(url: (name: ShopName, path: string) => string): Promise<Record<string, TurnCounts>> {
  const sum = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((total, m) => total + Number(m[1]), 0);
  const counts = await Promise.all(
    ACTOR_SERVICES.map(async (name) => {
      const text = await (await fetch(url(name, '/metrics'))).text();
      // By the service's label: processes that share a registry (`--together`) each serve all of it.
      const of = (family: string, extra = '') => sum(text, new RegExp(`^${family}\\{(?=[^}]*service="${name}")${extra}[^}]*\\} (\\S+)$`, 'gm'));
      return { turns: of('mailroom_turns_total'), commits: of('mailroom_commits_total', '(?=[^}]*outcome="committed")'), local: of('mailroom_messages_local_total') };
    }),
  );
  return Object.fromEntries(ACTOR_SERVICES.map((name, i) => [name, counts[i]!]));
}

function peakOf(of: Phase[]): number {
  return Math.max(...of.filter((p) => !p.label.startsWith('overload')).map((p) => p.completedPerSec).filter(Number.isFinite));
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
function ms(n: number): string {
  return !Number.isFinite(n) ? '–' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

const header = ['phase', 'sagas/s', 'p50 ms', 'p99 ms', 'confirmed', 'rejected', 'unfinished', 'accept p99', 'sub lag p99'];
const rows = phases.map((p) => [p.label, fmt(p.completedPerSec), ms(p.p50Ms), ms(p.p99Ms), `${p.confirmed}/${p.sent}`, String(p.rejected), String(p.unfinished), ms(p.acceptP99Ms), ms(p.lagP99Ms)]);
const mailroomPhases = phases.filter((p) => p.system === 'mailroom');
const restatePhases = phases.filter((p) => p.system === 'restate');
const cpuTable = (names: readonly string[], total: string, of: Phase[]) => ({
  head: ['CPU ms per saga', ...names, total, 'bench'],
  rows: of.map((p) => {
    const values = names.map((name) => p.cpuMsPerSaga[name]!);
    const two = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
    return [p.label, ...values.map(two), two(values.reduce((a, b) => a + b, 0)), two(p.cpuMsPerSaga.bench!)];
  }),
});
const cpuSum = (p: Phase) => Object.entries(p.cpuMsPerSaga).reduce((sum, [name, v]) => (name === 'bench' ? sum : sum + v), 0);
const table = (head: string[], body: string[][]) => {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  for (const r of body) console.log(line(r));
};
console.log('');
console.log(
  `sagas through the gateway, ${MIXED ? '1–3 SKUs each, every 10th to a country no carrier serves' : 'one line each'}, Redis ${FSYNC === 'always' ? 'AOF fsync always' : 'persistence off'} ` +
    `(${((Date.now() - began) / 1000).toFixed(0)} s; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)})`,
);
table(header, rows);
console.log('latency: POST /api/orders leaves → the turn confirming the order commits; accept p99: POST → 202; sub lag: commit → the bench reads the event');
console.log('');
const shopCpu = cpuTable([...SHOP, 'redis'], 'shop total', mailroomPhases);
table(shopCpu.head, shopCpu.rows);
const offMain = mailroomPhases.filter((p) => p.offMainMsPerSaga);
if (offMain.length) {
  const two = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(2) : '–');
  table(
    ['of which off the main thread', ...SHOP, 'all'],
    offMain.map((p) => {
      const all = SHOP.reduce((sum, name) => sum + p.offMainMsPerSaga![name]!, 0);
      const shopMs = SHOP.reduce((sum, name) => sum + p.cpuMsPerSaga[name]!, 0);
      return [p.label, ...SHOP.map((name) => two(p.offMainMsPerSaga![name])), `${two(all)} (${Math.round((100 * all) / shopMs)} % of the shop's Bun CPU)`];
    }),
  );
  console.log("off the main thread: JIT compilers above all — a Bun process compiles its hot code through its first minute or so under load, so a short phase's CPU includes some; then the GC's helpers, the HTTP client's thread");
}
if (TOGETHER) console.log('--together: order, inventory, payment and shipping ran in one process; its figures are in the order column');
const woken = mailroomPhases.filter((p) => p.wakeUpsPerSaga);
if (woken.length) {
  console.log('');
  const two = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : '–');
  table(
    ['wake-ups per saga', ...SHOP, 'redis', 'all'],
    woken.map((p) => [p.label, ...[...SHOP, 'redis'].map((name) => two(p.wakeUpsPerSaga![name])), two(Object.values(p.wakeUpsPerSaga!).reduce((a, b) => a + b, 0))]),
  );
  console.log("wake-ups: a process's main thread going to sleep — with nothing to do, or (Redis, fsynced) waiting for the disk — and being woken (voluntary context switches); on this kind of machine each costs ~0.1–0.2 ms of CPU (`bun run bench hop --gap-ms 20`)");
}
const counted = mailroomPhases.filter((p) => p.turnsPerSaga);
if (counted.length) {
  console.log('');
  const one = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  const all = (p: Phase, key: keyof TurnCounts) => ACTOR_SERVICES.reduce((sum, name) => sum + p.turnsPerSaga![name]![key], 0);
  table(
    ['turns / commits / local per saga', ...ACTOR_SERVICES, 'all'],
    counted.map((p) => [
      p.label,
      ...ACTOR_SERVICES.map((name) => {
        const c = p.turnsPerSaga![name]!;
        return `${one(c.turns)} / ${one(c.commits)} / ${one(c.local)}`;
      }),
      `${one(all(p, 'turns'))} / ${one(all(p, 'commits'))} / ${one(all(p, 'local'))}`,
    ]),
  );
  console.log("turns: messages applied (each an actor's step); commits: the batches that committed them; local: of the turns, messages one actor sent another of its partition, applied in the batch that sent them (docs/architecture.md#local-delivery)");
}
if (restatePhases.length) {
  console.log('');
  const restateCpu = cpuTable([...RESTATE_PROCESSES, 'redis'], 'peer total', restatePhases);
  table(restateCpu.head, restateCpu.rows);
  console.log("restate's rows: latency = POST /orderSaga/place leaves → the ingress answers with the settled saga; redis there: the payment provider's ledger, and the idle shop's blocking reads");
}
console.log('');
table(
  ['latency p50 / p99 ms', ...PARTS],
  mailroomPhases.map((p) => [p.label, ...PARTS.map((part) => `${ms(p.breakdown[part]![0])} / ${ms(p.breakdown[part]![1])}`)]),
);
console.log('start: POST leaves → the saga starts (gateway pricing, order created, saga.start relayed); then each step: command sent → its reply handled');
const sagasMeasured = mailroomPhases.reduce((n, p) => n + p.confirmed, 0);
if (sagasMeasured > 0 && commandTotals.size > 0) {
  const deltas = [...commandTotals].map(([command, total]) => ({ command, ...total }));
  const busiest = deltas.filter((d) => d.calls > 0).sort((a, b) => b.usec - a.usec).slice(0, 8);
  console.log('');
  table(
    [VS ? "Redis commands (Mailroom's phases)" : 'Redis commands (all phases)', 'calls/saga', 'µs/call', 'µs/saga'],
    busiest.map((d) => [d.command, (d.calls / sagasMeasured).toFixed(1), (d.usec / d.calls).toFixed(1), (d.usec / sagasMeasured).toFixed(0)]),
  );
  console.log('evalsha: the runtime\'s Lua scripts (read a batch, commit a turn, fire timers, …); the commands they run are counted on their own rows as well');
  const written = mailroomPhases.filter((p) => Number.isFinite(p.redisDiskKBPerSaga));
  if (written.some((p) => p.redisDiskKBPerSaga > 0)) console.log(`Redis wrote to disk per saga (its AOF in 4 KB pages, a page written again by each fsync that appended to it; rewrites not counted): ${written.map((p) => `${p.label} ${p.redisDiskKBPerSaga.toFixed(1)} KB`).join(', ')}`);
}
console.log('');
const p99ByRate = (of: Phase[]) => new Map(of.filter((p) => p.rate !== null).map((p) => [p.rate!, p.p99Ms]));
const peak = peakOf(mailroomPhases);
const at200 = mailroomPhases.find((p) => p.rate === 200);
const ratios = restatePhases.length
  ? vsRestate({ peakPerSec: peak, p99MsByRate: p99ByRate(mailroomPhases) }, { peakPerSec: peakOf(restatePhases), p99MsByRate: p99ByRate(restatePhases) })
  : null;
const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(
  `peak ${fmt(peak)} sagas/s (goal ≥ 1,000: ${goal(peak >= 1_000)})` +
    (at200 ? `; p99 at 200/s ${ms(at200.p99Ms)} ms (goal ≤ 25 ms: ${goal(at200.p99Ms <= 25)})` : ''),
);
if (ratios) {
  const x = (r: number | null) => (r === null ? '–' : `${r.toFixed(2)}×`);
  console.log(
    `vs restate (both fsyncing every write): peak ${fmt(peak)} vs ${fmt(peakOf(restatePhases))} sagas/s = ${x(ratios.peak)} (goal ≥ 3: ${goal((ratios.peak ?? 0) >= 3)}); ` +
      `p99 at 50/s restate ÷ mailroom ${x(ratios.p99At50)} (goal ≥ 3: ${goal((ratios.p99At50 ?? 0) >= 3)}); at 200/s ${x(ratios.p99At200)}`,
  );
}
if (overload) {
  const o = overload.phase;
  console.log(
    `overload at ${fmt(o.rate ?? 0)}/s (2× peak unless --overload-rate): ${o.accepted} of ${o.sent} accepted, refused ${Object.entries(o.refusedBy).map(([why, n]) => `${n} × ${why}`).join(', ') || 'none'} ` +
      `(refusal answered in p99 ${ms(o.refuseP99Ms)} ms); accepted p50 ${ms(o.p50Ms)} ms, p99 ${ms(o.p99Ms)} ms (goal ≤ 250 ms: ${goal(o.p99Ms <= 250)}); ` +
      `Redis used memory ${overload.memoryMiB.map((m) => m.toFixed(1)).join(' → ')} MiB (before → as the last order was answered)`,
  );
  const [was, now] = overload.byFamily;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2);
  console.log(`\nRedis memory by family, overload phase: before it, and once its sagas had ended (${overload.phase.accepted} accepted)`);
  console.log(`${'family'.padEnd(20)}${'keys'.padStart(9)}${'MiB before'.padStart(12)}${'MiB after'.padStart(11)}${'KB per accepted saga'.padStart(22)}`);
  for (const family of MEMORY_FAMILIES) {
    if (was.keys[family] === 0 && now.keys[family] === 0) continue;
    console.log(`${family.padEnd(20)}${String(now.keys[family]).padStart(9)}${mib(was.bytes[family]).padStart(12)}${mib(now.bytes[family]).padStart(11)}${keptKB(family).toFixed(2).padStart(22)}`);
  }
  console.log(
    `the mailboxes as the last order was answered: ${mib(overload.mailboxBytesAtLastAnswer)} MiB. Records and histories are kept for their types' retention (finished sagas 7 days);\n` +
      'the event log is capped by entries per partition, the inspection stream by entries, the dedupe window by time (5 min): they grow until their cap',
  );
}

/** What one accepted saga of the overload phase added to a family, in KB. */
function keptKB(family: MemoryFamily): number {
  if (!overload || overload.phase.accepted === 0) return NaN;
  return (overload.byFamily[1].bytes[family] - overload.byFamily[0].bytes[family]) / overload.phase.accepted / 1000;
}
for (const p of profiles) console.log(`\n${p}`);

if (json) {
  const r2 = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
  const rates = (of: Phase[]) =>
    of.map((p) => ({
      rate: p.rate ?? 'full',
      p50Ms: r2(p.p50Ms),
      p99Ms: r2(p.p99Ms),
      completedPerSec: r2(p.completedPerSec),
      cpuMsPerSaga: r2(cpuSum(p)),
      cpuMsPerProcess: Object.fromEntries(Object.entries(p.cpuMsPerSaga).map(([name, v]) => [name, r2(v)])),
      ...(p.besideCores !== undefined ? { besideCores: r2(p.besideCores), besideWriteMBps: r2(p.besideWriteMBps!) } : {}),
      ...(p.quietBefore ? { quietWaitS: r2(p.quietBefore.waitedMs / 1000) } : {}),
      ...(Number.isFinite(p.redisDiskKBPerSaga) ? { redisDiskKBPerSaga: r2(p.redisDiskKBPerSaga) } : {}),
      ...(p.offMainMsPerSaga ? { offMainMsPerSaga: Object.fromEntries(Object.entries(p.offMainMsPerSaga).map(([name, v]) => [name, r2(v)])) } : {}),
      ...(p.wakeUpsPerSaga ? { wakeUpsPerSaga: Object.fromEntries(Object.entries(p.wakeUpsPerSaga).map(([name, v]) => [name, r2(v)])) } : {}),
      ...(p.turnsPerSaga
        ? { turnsPerSaga: Object.fromEntries(Object.entries(p.turnsPerSaga).map(([name, c]) => [name, { turns: r2(c.turns), commits: r2(c.commits), local: r2(c.local) }])) }
        : {}),
    }));
  console.log(
    JSON.stringify({
      name: 'saga',
      fsync: FSYNC,
      ...(TOGETHER ? { together: true } : {}),
      peakPerSec: r2(peak),
      rates: rates(mailroomPhases.filter((p) => p !== overload?.phase)),
      ...(overload && {
        overload: {
          rate: overload.phase.rate,
          sent: overload.phase.sent,
          accepted: overload.phase.accepted,
          refused: overload.phase.refusedBy,
          confirmed: overload.phase.confirmed,
          unfinished: overload.phase.unfinished,
          p50AcceptedMs: r2(overload.phase.p50Ms),
          p99AcceptedMs: r2(overload.phase.p99Ms),
          refusedAnswerP99Ms: r2(overload.phase.refuseP99Ms),
          redisMemoryMiB: overload.memoryMiB.map(r2),
          redisMemoryByFamily: {
            beforeMiB: Object.fromEntries(MEMORY_FAMILIES.map((f) => [f, r2(overload!.byFamily[0].bytes[f] / 2 ** 20)])),
            afterMiB: Object.fromEntries(MEMORY_FAMILIES.map((f) => [f, r2(overload!.byFamily[1].bytes[f] / 2 ** 20)])),
            mailboxesMiBAtLastAnswer: r2(overload.mailboxBytesAtLastAnswer / 2 ** 20),
            keptKBPerAcceptedSaga: Object.fromEntries(MEMORY_FAMILIES.map((f) => [f, r2(keptKB(f))])),
          },
        },
      }),
      ...(ratios && {
        restate: { version: peer?.version, fsync: 'every write (log-server RocksDB WAL, default)', peakPerSec: r2(peakOf(restatePhases)), rates: rates(restatePhases) },
        ratios: { vsRestate: ratios },
      }),
    }),
  );
}
process.exit(0);
