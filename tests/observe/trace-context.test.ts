/** The W3C `traceparent` helpers the runtime carries traces with (pure: no SDK started). */
import { describe, expect, it } from 'bun:test';
import { trace } from '@opentelemetry/api';
import { contextOf, isSampled, traceparentOf, tracingWanted } from '../../runtime/observe/tracing.ts';

const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

describe('trace context', () => {
  it('should read the sampled flag of a traceparent', () => {
    expect(isSampled(SAMPLED)).toBe(true);
    expect(isSampled(UNSAMPLED)).toBe(false);
    expect(isSampled('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03')).toBe(true);
    expect(isSampled('garbage')).toBe(false);
  });

  it('should turn a traceparent into a remote parent and back', () => {
    const span = trace.getSpan(contextOf(SAMPLED));
    expect(span?.spanContext()).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', isRemote: true });
    expect(traceparentOf(span)).toBe(SAMPLED);
    expect(traceparentOf(trace.getSpan(contextOf(UNSAMPLED)))).toBe(UNSAMPLED);
    expect(trace.getSpan(contextOf('00-zz-00f067aa0ba902b7-01'))).toBeUndefined();
    expect(traceparentOf(undefined)).toBeUndefined();
  });

  it('should be on only with an OTLP endpoint, and off when disabled', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });
});
