/**
 * The recent traces the processes export to the control plane (it is their OTLP/HTTP receiver when `bun run dev
 * --trace` turns tracing on): every span kept as the exporter sent it — service, name, parent, start, end — grouped
 * by trace, and each trace found by the order it concerns (the `mailroom.saga.id` attribute of the saga's spans,
 * the `order/<type>/<order id>` actor of the order service's turns). Bounded: the oldest traces go first.
 */

/** A span as the panel draws it: times in ms since the epoch (fractions kept), attributes flattened. */
export type TraceSpan = {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  error: boolean;
  attributes: Record<string, string | number | boolean>;
};

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value?: AnyValue };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number };
};
/** OTLP/HTTP JSON's ExportTraceServiceRequest, as far as it is read here. */
export type OtlpTraces = { resourceSpans: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[] };

const valueOf = (v: AnyValue | undefined): string | number | boolean | undefined =>
  v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : (v?.boolValue ?? v?.doubleValue));
const attrs = (list: KeyValue[] | undefined) => {
  const out: Record<string, string | number | boolean> = {};
  for (const a of list ?? []) {
    const v = valueOf(a.value);
    if (v !== undefined) out[a.key] = v;
  }
  return out;
};
/** Nanoseconds (a decimal string in OTLP JSON) to ms, keeping µs. */
const nanosToMs = (n: string | number) => Number(BigInt(n) / 1_000n) / 1_000;

/** The order a span concerns, if it names one. */
function orderOf(a: TraceSpan['attributes']): string | undefined {
  const saga = a['mailroom.saga.id'];
  if (typeof saga === 'string') return saga;
  const actor = a['mailroom.actor'];
  if (typeof actor === 'string' && actor.startsWith('order/')) return actor.split('/').slice(2).join('/');
  return undefined;
}

export class TraceStore {
  private readonly traces = new Map<string, TraceSpan[]>();
  private readonly byOrder = new Map<string, Set<string>>();

  constructor(readonly limits: { traces: number; spansPerTrace: number } = { traces: 1_000, spansPerTrace: 2_000 }) {}

  /** Takes what an exporter posted; returns how many spans were kept (over a trace's limit, spans are dropped). */
  add(body: OtlpTraces): { accepted: number; rejected: number } {
    let accepted = 0;
    let rejected = 0;
    for (const rs of body.resourceSpans) {
      const service = String(attrs(rs.resource?.attributes)['service.name'] ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const span = this.spanOf(service, s);
          if (!span) {
            rejected++;
            continue;
          }
          let spans = this.traces.get(span.traceId);
          if (!spans) {
            this.traces.set(span.traceId, (spans = []));
            this.evict();
          }
          if (spans.length >= this.limits.spansPerTrace) {
            rejected++;
            continue;
          }
          spans.push(span);
          accepted++;
          const order = orderOf(span.attributes);
          if (order !== undefined) {
            let ids = this.byOrder.get(order);
            if (!ids) this.byOrder.set(order, (ids = new Set()));
            ids.add(span.traceId);
          }
        }
      }
    }
    return { accepted, rejected };
  }

  /** One trace's spans, by start time; undefined when unknown (never seen, or evicted). */
  trace(traceId: string): TraceSpan[] | undefined {
    const spans = this.traces.get(traceId);
    return spans ? [...spans].sort((a, b) => a.startMs - b.startMs) : undefined;
  }

  /** The traces that concern an order, the one that began first (the order being placed) first. */
  tracesOfOrder(orderId: string): string[] {
    const ids = [...(this.byOrder.get(orderId) ?? [])].filter((id) => this.traces.has(id));
    const start = (id: string) => Math.min(...this.traces.get(id)!.map((s) => s.startMs));
    return ids.sort((a, b) => start(a) - start(b));
  }

  get size(): number {
    return this.traces.size;
  }

  private spanOf(service: string, s: OtlpSpan): TraceSpan | null {
    if (!/^[0-9a-f]{32}$/.test(s.traceId) || !/^[0-9a-f]{16}$/.test(s.spanId)) return null;
    let startMs: number;
    let endMs: number;
    try {
      startMs = nanosToMs(s.startTimeUnixNano);
      endMs = nanosToMs(s.endTimeUnixNano);
    } catch {
      return null;
    }
    return {
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId ?? '',
      service,
      name: s.name,
      kind: s.kind ?? 0,
      startMs,
      durationMs: Math.max(0, endMs - startMs),
      error: s.status?.code === 2,
      attributes: attrs(s.attributes),
    };
  }

  /** Forgets the oldest traces (first seen first) past the limit, and their index entries. */
  private evict(): void {
    while (this.traces.size > this.limits.traces) {
      const [oldest, spans] = this.traces.entries().next().value as [string, TraceSpan[]];
      this.traces.delete(oldest);
      for (const s of spans) {
        const order = orderOf(s.attributes);
        const ids = order === undefined ? undefined : this.byOrder.get(order);
        ids?.delete(oldest);
        if (ids && ids.size === 0) this.byOrder.delete(order!);
      }
    }
  }
}
