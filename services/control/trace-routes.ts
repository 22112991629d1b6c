/**
 * The observability controller: the Overview's chart series (from every process's `/metrics`), the OTLP/HTTP
 * receiver the processes export spans to when tracing is on (`bun run dev --trace` points
 * `OTEL_EXPORTER_OTLP_ENDPOINT` here), and one trace — by id, or the trace of an order — for the panel's waterfall.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { OrderTraceParamsSchema, OtlpAnswerSchema, OtlpTracesSchema, OverviewSeriesSchema, TraceErrorCode, TraceIdParamsSchema, TraceSchema } from './observe-protocol.ts';
import type { OtlpTraces } from './trace-store.ts';

const tags = ['observability'];
const OFF = 'tracing is off unless the processes export to this control plane: start with `bun run dev --trace`';

/** The series of the Overview's charts: `GET /control/overview/series`. */
export function overviewRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:overview' }).get('/overview/series', () => ctx.overview.series(), {
    response: { 200: OverviewSeriesSchema },
    detail: {
      summary: 'The Overview’s charts: PromQL queries over scrapes of every process’s /metrics, one point a second',
      description: 'Throughput: sum(rate(mailroom_sagas_total{outcome="started"}[10s])) and sum(rate(mailroom_turns_total[10s])); saga latency: histogram_quantile(0.5 | 0.99, …mailroom_saga_duration_seconds_bucket[60s]) in ms. The same numbers Prometheus computes from the same counters.',
      tags,
      responses: answers({ 200: 'Every chart, its lines’ queries and the last five minutes of points' }),
    },
  });
}

/** One trace, and the trace of an order: under `/control`. */
export function traceRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:traces' })
    .get(
      '/traces/:traceId',
      ({ params }) => {
        const spans = ctx.traces.trace(params.traceId);
        if (!spans) throw new HttpError(404, TraceErrorCode.traceNotFound, `no span of trace ${params.traceId} was received (or it was evicted); ${OFF}`, { traceId: params.traceId });
        return { traceId: params.traceId, otherTraces: [], spans };
      },
      {
        params: TraceIdParamsSchema,
        response: { 200: TraceSchema, 404: ErrorBodySchema },
        detail: { summary: 'One trace’s spans, as received', tags, responses: answers({ 200: 'The trace', 404: 'TRACE_NOT_FOUND: no span of this trace was received, or it was evicted' }) },
      },
    )
    .get(
      '/sagas/:orderId/trace',
      ({ params }) => {
        const [first, ...others] = ctx.traces.tracesOfOrder(params.orderId);
        if (!first) throw new HttpError(404, TraceErrorCode.traceNotFound, `no span concerning order ${params.orderId} was received; ${OFF}`, { orderId: params.orderId });
        return { traceId: first, orderId: params.orderId, otherTraces: others, spans: ctx.traces.trace(first)! };
      },
      {
        params: OrderTraceParamsSchema,
        response: { 200: TraceSchema, 404: ErrorBodySchema },
        detail: {
          summary: 'The trace of an order: the one that placed it (gateway → order → saga → inventory, payment → provider, shipping)',
          tags,
          responses: answers({ 200: 'The trace that began first among those naming the order', 404: 'TRACE_NOT_FOUND: no span names this order (tracing off, or evicted)' }),
        },
      },
    );
}

/** `POST /v1/traces`: the OTLP/HTTP receiver (JSON), at the path an exporter appends to its endpoint. */
export function otlpRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:otlp' }).post(
    '/v1/traces',
    ({ body }) => {
      const { rejected } = ctx.traces.add(body as OtlpTraces);
      return { partialSuccess: rejected > 0 ? { rejectedSpans: rejected, errorMessage: 'malformed ids or times, or over a trace’s span limit' } : {} };
    },
    {
      body: OtlpTracesSchema,
      response: { 200: OtlpAnswerSchema, 422: ErrorBodySchema },
      detail: {
        summary: 'Receive spans (OTLP/HTTP, JSON protocol): the processes’ exporter posts here when tracing is on',
        description: `Kept in memory for the panel's waterfalls, at most ${1_000} traces (the oldest go first). Needs the bearer token, or the ingest token \`bun run dev --trace\` hands the processes in OTEL_EXPORTER_OTLP_HEADERS. Protobuf bodies are refused with 415: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json.`,
        tags,
        responses: answers({ 200: 'The spans were taken (partialSuccess counts any refused)', 422: 'VALIDATION: not an ExportTraceServiceRequest' }),
      },
    },
  );
}
