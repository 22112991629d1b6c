/**
 * The control plane's observability answers as the panel reads them — the Overview's chart series and one trace —
 * taken as types from the control plane itself, so the panel draws exactly what it sends.
 */
export type { ChartLine, ChartSeries, OverviewSeries } from '../../../../services/control/overview-series.ts';
export type { TraceSpan } from '../../../../services/control/trace-store.ts';
import type { TraceSpan } from '../../../../services/control/trace-store.ts';

/** `GET /control/sagas/:orderId/trace` and `GET /control/traces/:traceId`. */
export type Trace = { traceId: string; orderId?: string; otherTraces: string[]; spans: TraceSpan[] };
