/**
 * Tracing across the shop's processes: with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a real OTLP/HTTP receiver
 * (a Bun server decoding what the exporter posts), one order placed through the gateway is one trace — gateway →
 * order → saga → inventory, payment → provider, shipping — and its spans form one tree: every span's parent is a
 * span of the same trace, all six processes take part, and the provider's charge descends from the gateway's
 * request through the saga, the payment actor and its effect. The second order goes through a SIGKILLed shipping
 * process and a saga retry (its step times out and a durable timer sends the command again) and stays one tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { cleanupPrefix, testPrefix, waitFor } from '../helpers/redis.ts';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { startShop, SHOP_PROCESSES, type Shop } from '../helpers/shop.ts';

const prefix = testPrefix('tracing');
const receiver = startOtlpReceiver();
let shop: Shop;

beforeAll(async () => {
  shop = await startShop(prefix, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    MAILROOM_SAGA_SHIPPING_TIMEOUT_MS: '2500',
  });
}, 40_000);
afterAll(async () => {
  await shop?.close();
  receiver.stop();
  await cleanupPrefix(prefix);
});

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

let seq = 0;
/** Places an order under a trace of the test's own (its root span id is the caller's); returns both ids. */
async function place(recorded = true): Promise<{ orderId: string; traceId: string; rootId: string }> {
  const traceId = hex(16);
  const rootId = hex(8);
  const res = await fetch(shop.url('gateway', '/api/orders'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-${seq++}`, traceparent: `00-${traceId}-${rootId}-${recorded ? '01' : '00'}` },
    body: JSON.stringify({ customer: { name: 'Ada', email: 'ada@example.com' }, lines: [{ sku: 'BOX-M', qty: 1 }], address: { name: 'Ada', line1: '1 Sq', city: 'London', country: 'GB' } }),
  });
  expect(res.status).toBe(202);
  return { orderId: ((await res.json()) as { orderId: string }).orderId, traceId, rootId };
}

/** Polls the order until its saga completed; `headers` let the polling itself go unrecorded. */
const completed = (orderId: string, timeoutMs = 15_000, headers: Record<string, string> = {}) =>
  waitFor(`the saga of ${orderId} to complete`, async () => ((await (await fetch(shop.url('gateway', `/api/orders/${orderId}`), { headers })).json()) as any).saga?.status === 'completed', timeoutMs, 50);

/** A trace's spans, as an indented tree (for failure messages). */
function drawTree(spans: ReceivedSpan[], rootId: string): string {
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const s of spans.filter((x) => x.parentSpanId === parent).sort((a, b) => a.startMs - b.startMs)) {
      lines.push(`${'  '.repeat(depth)}${s.service}: ${s.name}${s.error ? ' (error)' : ''}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(rootId, 0);
  return lines.join('\n');
}

/** The services of a span's ancestors, nearest first. */
function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const out: string[] = [];
  for (let p = byId.get(span.parentSpanId); p; p = byId.get(p.parentSpanId)) out.push(`${p.service}: ${p.name}`);
  return out;
}

/** Waits until the trace's spans stop arriving and the ones `ready` wants are in. */
async function settledTrace(traceId: string, ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  let last = -1;
  return waitFor(
    'the trace to be exported',
    async () => {
      const spans = receiver.trace(traceId);
      const stable = spans.length === last;
      last = spans.length;
      return stable && ready(spans) ? spans : null;
    },
    15_000,
    400,
  ).catch((error) => {
    const all = receiver.spans;
    throw new Error(`${(error as Error).message}; received ${all.length} spans, ${receiver.trace(traceId).length} of this trace, this trace: ${receiver.trace(traceId).map((x) => `${x.service}: ${x.name}`).join(', ')}; other traces: ${all.filter((x) => x.traceId !== traceId).map((x) => `${x.service}: ${x.name} ${x.traceId.slice(0, 6)}<${x.parentSpanId}`).join(', ')}`);
  });
}

function expectOneTree(spans: ReceivedSpan[], rootId: string): void {
  const ids = new Set(spans.map((s) => s.spanId));
  const orphans = spans.filter((s) => s.parentSpanId !== rootId && !ids.has(s.parentSpanId));
  expect(orphans.map((s) => `${s.service}: ${s.name}`)).toEqual([]);
  expect(new Set(spans.map((s) => s.service))).toEqual(new Set(SHOP_PROCESSES));
}

describe('tracing an order across processes', () => {
  it('should make one order one trace: one tree of spans from all six processes', async () => {
    const { orderId, traceId, rootId } = await place();
    await completed(orderId);
    const spans = await settledTrace(traceId, (s) => new Set(s.map((x) => x.service)).size === SHOP_PROCESSES.length);
    const tree = drawTree(spans, rootId);
    expectOneTree(spans, rootId);

    // The gateway's request is the root's only child: everything else hangs below it.
    const top = spans.filter((s) => s.parentSpanId === rootId);
    expect(top.map((s) => `${s.service}: ${s.name}`)).toEqual(['gateway: POST /api/orders']);

    // The provider's charge descends from the payment effect, the payment actor, the saga, and the gateway.
    const charge = spans.find((s) => s.service === 'provider' && s.name === 'POST /charges');
    expect(charge ? 'found' : tree).toBe('found');
    const up = ancestry(spans, charge!);
    const firstIndex = (pattern: RegExp) => up.findIndex((a) => pattern.test(a));
    const chain = [/^payment: POST provider$/, /^payment: effect /, /^payment: payment /, /^order: fulfillment /, /^gateway: POST /];
    const positions = chain.map(firstIndex);
    expect({ positions, tree }).toEqual({ positions: [...positions].sort((a, b) => a - b).map((p) => (p < 0 ? NaN : p)), tree });

    // Saga steps are spans too, and no span names an order id.
    for (const step of ['reserveInventory', 'chargePayment', 'scheduleShipment', 'confirmOrder']) {
      expect(spans.some((s) => s.service === 'order' && s.name === `saga fulfillment step ${step}`) ? step : tree).toBe(step);
    }
    expect(spans.filter((s) => s.name.includes(orderId)).map((s) => s.name)).toEqual([]);
  }, 40_000);

  it('should keep one tree through a SIGKILLed node and a saga retry', async () => {
    await shop.signal('shipping', 'SIGKILL');
    const { orderId, traceId, rootId } = await place();
    // The shipping step times out (2.5 s; 3 tries) at least once while its process is dead: the saga retries it.
    await waitFor('the shipping step to be retried', async () => {
      const saga = ((await (await fetch(shop.url('gateway', `/api/orders/${orderId}`))).json()) as any).saga;
      return (saga?.log ?? []).some((l: any) => l.step === 'scheduleShipment' && l.phase === 'retrying');
    }, 10_000, 50);
    await shop.start('shipping');
    await completed(orderId, 20_000);
    const spans = await settledTrace(traceId, (s) => s.some((x) => x.service === 'shipping'));
    const tree = drawTree(spans, rootId);
    expectOneTree(spans, rootId);
    // The retry came from a durable timer, in the same trace; both commands reached the restarted shipping node.
    expect(spans.some((s) => s.service === 'order' && s.attributes['mailroom.message.kind'] === 'timer') ? 'timer' : tree).toBe('timer');
    expect(spans.filter((s) => s.service === 'shipping' && s.name.startsWith('shipment ')).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('should record nothing anywhere for an order whose trace is not recorded — no fragment starting a trace of its own', async () => {
    // Every process samples parent-based, always on: a span started without a parent anywhere in the order's path
    // (a message sent without the trace, an effect's call to the provider) would be recorded and arrive here.
    // The shop's start (seeding the catalogue) is traced: wait until its spans are all in.
    let quietSince = receiver.spans.length;
    await waitFor('the receiver to be quiet', async () => {
      await Bun.sleep(400);
      const quiet = receiver.spans.length === quietSince;
      quietSince = receiver.spans.length;
      return quiet;
    }, 10_000, 0);
    const before = receiver.spans.length;
    const { orderId, traceId } = await place(false);
    await completed(orderId, 15_000, { traceparent: `00-${hex(16)}-${hex(8)}-00` });
    await Bun.sleep(1_500); // several export intervals (OTEL_BSP_SCHEDULE_DELAY=100)
    const after = receiver.spans.slice(before);
    expect(receiver.trace(traceId)).toEqual([]);
    expect(after.map((s) => `${s.service}: ${s.name}`)).toEqual([]);
  }, 40_000);
});
