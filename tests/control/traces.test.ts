/**
 * The control plane as the processes' OTLP/HTTP receiver: a real OpenTelemetry SDK in this process exports spans
 * (the OTLP/HTTP JSON exporter, as every Mailroom process uses) to the control plane's `POST /v1/traces` over real
 * HTTP, and the trace comes back by id and by the order its spans name. Posting needs a token (the control token,
 * or the ingest token the supervisor hands the processes); a body that is not an export request is a 422; the
 * store keeps a bounded number of traces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { createServiceApp } from '../../runtime/http/index.ts';
import { openControlContext, type ControlContext } from '../../services/control/context.ts';
import { controlRoutes } from '../../services/control/routes.ts';
import { TraceStore } from '../../services/control/trace-store.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { PANEL_ORIGINS, TOKEN } from './helpers.ts';

const prefix = testPrefix('traces');
const INGEST = 'ingest-0123456789abcdef';
let ctx: ControlContext;
let server: ReturnType<typeof Bun.serve>;
let origin: string;

beforeAll(async () => {
  const nowhere = `http://127.0.0.1:${freePort()}`;
  ctx = await openControlContext({ redis: SHARED_REDIS, keyPrefix: prefix, origins: () => nowhere, follow: false });
  const app = createServiceApp({ name: 'control', log: () => {}, trustedOrigins: PANEL_ORIGINS }).use(controlRoutes(ctx, { token: TOKEN, origins: PANEL_ORIGINS, ingestToken: INGEST }));
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => app.handle(req) });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  server?.stop(true);
  await ctx?.close();
  await cleanupPrefix(prefix);
});

/** A tracer exporting to the control plane as a process named `service` would, with `token`. */
function exporterTo(service: string, token: string) {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${origin}/v1/traces`, headers: { authorization: `Bearer ${token}` } }) })],
  });
  return { tracer: provider.getTracer('test'), flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

const getJson = async (path: string) => {
  const res = await fetch(`${origin}${path}`);
  return { status: res.status, body: (await res.json()) as any };
};

describe('POST /v1/traces', () => {
  it('should take what a real OTLP/HTTP exporter sends and give the trace back by id and by order', async () => {
    const gateway = exporterTo('gateway', INGEST);
    const order = exporterTo('order', INGEST);
    const root = gateway.tracer.startSpan('POST /api/orders', {}, ROOT_CONTEXT);
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    const turn = order.tracer.startSpan('fulfillment start', { attributes: { 'mailroom.actor': 'order/fulfillment/ord-trace-1' } }, parent);
    const step = order.tracer.startSpan('saga fulfillment step reserveInventory', { attributes: { 'mailroom.saga.id': 'ord-trace-1' } }, trace.setSpan(ROOT_CONTEXT, turn));
    step.end();
    turn.end();
    root.end();
    await Promise.all([gateway.flush(), order.flush()]);

    const traceId = root.spanContext().traceId;
    const byId = await getJson(`/control/traces/${traceId}`);
    expect(byId.status).toBe(200);
    const spans = byId.body.spans as { service: string; name: string; spanId: string; parentSpanId: string; durationMs: number }[];
    expect(spans.map((s) => `${s.service}: ${s.name}`).sort()).toEqual(['gateway: POST /api/orders', 'order: fulfillment start', 'order: saga fulfillment step reserveInventory']);
    const named = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(named['fulfillment start']!.parentSpanId).toBe(root.spanContext().spanId);
    expect(named['saga fulfillment step reserveInventory']!.parentSpanId).toBe(turn.spanContext().spanId);
    expect(named['POST /api/orders']!.parentSpanId).toBe('');
    for (const s of spans) expect(s.durationMs).toBeGreaterThanOrEqual(0);

    const byOrder = await getJson('/control/sagas/ord-trace-1/trace');
    expect(byOrder.status).toBe(200);
    expect(byOrder.body.traceId).toBe(traceId);
    expect(byOrder.body.spans).toHaveLength(3);
    await Promise.all([gateway.shutdown(), order.shutdown()]);
  });

  it('should refuse spans without a token, or with a wrong one, and take the control token too', async () => {
    const body = JSON.stringify({ resourceSpans: [] });
    const post = (authorization?: string) =>
      fetch(`${origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
    expect((await post()).status).toBe(401);
    expect((await post('Bearer nope')).status).toBe(401);
    expect((await post(`Bearer ${TOKEN}`)).status).toBe(200);
    // The ingest token opens the receiver only.
    const elsewhere = await fetch(`${origin}/control/load`, { method: 'DELETE', headers: { authorization: `Bearer ${INGEST}` } });
    expect(elsewhere.status).toBe(401);
  });

  it('should answer 422 to a body that is not an export request, and 404 for a trace it never saw', async () => {
    const res = await fetch(`${origin}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST}` },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '1', name: 'n', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }),
    });
    expect(res.status).toBe(422);
    const protobuf = await fetch(`${origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST}` }, body: new Uint8Array([10, 0]) });
    expect(protobuf.status).toBe(415);
    const missing = await getJson(`/control/traces/${'ab'.repeat(16)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('TRACE_NOT_FOUND');
    expect((await getJson('/control/sagas/ord-never/trace')).body.message).toContain('bun run dev --trace');
  });
});

describe('TraceStore', () => {
  const span = (traceId: string, spanId: string, order?: string) => ({
    traceId,
    spanId,
    name: 's',
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000002500000',
    attributes: order ? [{ key: 'mailroom.saga.id', value: { stringValue: order } }] : [],
  });
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

  it('should forget the oldest traces past its limit, with their order index', () => {
    const store = new TraceStore({ traces: 2, spansPerTrace: 10 });
    for (let i = 0; i < 3; i++) store.add({ resourceSpans: [{ scopeSpans: [{ spans: [span(hex(i, 32), hex(i, 16), `ord-${i}`)] }] }] });
    expect(store.size).toBe(2);
    expect(store.trace(hex(0, 32))).toBeUndefined();
    expect(store.tracesOfOrder('ord-0')).toEqual([]);
    expect(store.tracesOfOrder('ord-2')).toEqual([hex(2, 32)]);
    expect(store.trace(hex(2, 32))![0]!.durationMs).toBe(2.5);
  });

  it('should drop spans over a trace’s limit and say how many', () => {
    const store = new TraceStore({ traces: 5, spansPerTrace: 2 });
    const result = store.add({ resourceSpans: [{ scopeSpans: [{ spans: [1, 2, 3].map((i) => span(hex(1, 32), hex(i, 16))) }] }] });
    expect(result).toEqual({ accepted: 2, rejected: 1 });
  });
});
