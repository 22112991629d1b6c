/**
 * The control plane's observability protocol: the Overview's chart series (derived from the processes' `/metrics`)
 * and the traces it receives as an OTLP/HTTP endpoint (`POST /v1/traces`, JSON) and hands the panel as waterfalls.
 */
import { t } from 'elysia';
import { OrderId } from '../shared/shop-vocabulary.ts';

export const TraceErrorCode = {
  traceNotFound: 'TRACE_NOT_FOUND',
  unsupportedOtlp: 'UNSUPPORTED_MEDIA_TYPE',
} as const;

const open = { additionalProperties: true } as const;
const Nullable = <S extends Parameters<typeof t.Union>[0][number]>(schema: S) => t.Union([schema, t.Null()]);

export const OverviewSeriesSchema = t.Object(
  {
    everyMs: t.Integer({ description: 'How often every process is scraped, ms' }),
    historyS: t.Integer({ description: 'How far back the points go, s' }),
    targets: t.Array(t.Object({ name: t.String(), up: t.Boolean({ description: 'Whether its last scrape answered' }) })),
    charts: t.Array(
      t.Object({
        id: t.Union([t.Literal('throughput'), t.Literal('latency')]),
        title: t.String(),
        unit: t.String(),
        lines: t.Array(t.Object({ label: t.String(), metric: t.String({ description: 'The Prometheus metric plotted' }), query: t.String({ description: 'The PromQL query whose value each point is' }) })),
        points: t.Array(t.Object({ at: t.Number({ description: 'ms since the epoch' }), values: t.Array(Nullable(t.Number()), { description: 'One per line; null while there is nothing to say (fewer than two scrapes, nothing observed)' }) })),
      }),
    ),
  },
  { ...open, description: 'The Overview charts, each line a PromQL query over scrapes of every process’s GET /metrics' },
);

const Hex = (bytes: number, example: string) => t.String({ pattern: `^[0-9a-f]{${bytes * 2}}$`, examples: [example] });
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const Nanos = t.Union([t.String({ pattern: '^\\d{1,20}$', examples: ['1733212800000000000'] }), t.Integer({ minimum: 0 })], { description: 'ns since the epoch' });
const KeyValue = t.Object({ key: t.String({ maxLength: 256 }), value: t.Optional(t.Object({}, open)) }, open);

/** OTLP/HTTP JSON's ExportTraceServiceRequest (opentelemetry-proto `trace/v1`), as far as the receiver reads it. */
export const OtlpTracesSchema = t.Object(
  {
    resourceSpans: t.Array(
      t.Object(
        {
          resource: t.Optional(t.Object({ attributes: t.Optional(t.Array(KeyValue)) }, open)),
          scopeSpans: t.Optional(
            t.Array(
              t.Object(
                {
                  spans: t.Optional(
                    t.Array(
                      t.Object(
                        {
                          traceId: Hex(16, TRACE_ID),
                          spanId: Hex(8, SPAN_ID),
                          parentSpanId: t.Optional(t.String({ pattern: '^([0-9a-f]{16})?$' })),
                          name: t.String({ maxLength: 500, examples: ['POST /api/orders'] }),
                          kind: t.Optional(t.Integer({ minimum: 0, maximum: 5 })),
                          startTimeUnixNano: Nanos,
                          endTimeUnixNano: Nanos,
                          attributes: t.Optional(t.Array(KeyValue)),
                          status: t.Optional(t.Object({ code: t.Optional(t.Integer({ minimum: 0, maximum: 2 })) }, open)),
                        },
                        open,
                      ),
                    ),
                  ),
                },
                open,
              ),
            ),
          ),
        },
        open,
      ),
    ),
  },
  {
    ...open,
    description: 'What an OpenTelemetry OTLP/HTTP exporter posts with the JSON protocol (hex ids, times in ns)',
    examples: [
      {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
            scopeSpans: [{ spans: [{ traceId: TRACE_ID, spanId: SPAN_ID, name: 'POST /api/orders', kind: 2, startTimeUnixNano: '1733212800000000000', endTimeUnixNano: '1733212800004000000' }] }],
          },
        ],
      },
    ],
  },
);

export const OtlpAnswerSchema = t.Object(
  { partialSuccess: t.Object({ rejectedSpans: t.Optional(t.Integer()), errorMessage: t.Optional(t.String()) }, open) },
  { description: 'ExportTraceServiceResponse: spans refused (malformed, or over a trace’s limit) are counted in partialSuccess' },
);

export const TraceSpanSchema = t.Object(
  {
    traceId: t.String(),
    spanId: t.String(),
    parentSpanId: t.String({ description: 'Empty for a root' }),
    service: t.String({ description: 'The exporting process (service.name)' }),
    name: t.String(),
    kind: t.Integer(),
    startMs: t.Number({ description: 'ms since the epoch, µs kept' }),
    durationMs: t.Number(),
    error: t.Boolean(),
    attributes: t.Object({}, open),
  },
  open,
);

export const TraceSchema = t.Object(
  {
    traceId: t.String(),
    orderId: t.Optional(t.String()),
    otherTraces: t.Array(t.String(), { description: 'Later traces of the same order (an operator’s retry, …)' }),
    spans: t.Array(TraceSpanSchema, { description: 'Every span received so far, by start time' }),
  },
  { ...open, description: 'One trace as the processes exported it' },
);

export const TraceIdParamsSchema = t.Object({ traceId: Hex(16, TRACE_ID) });
export const OrderTraceParamsSchema = t.Object({ orderId: OrderId() });
