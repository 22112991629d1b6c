/**
 * The spans of the actor runtime, each a few lines the runtime calls only when `tracing.on`: one per message an
 * actor applies (a child of the span that sent it), one per effect run (a child of the turn that started it), and
 * one per saga step or compensation once it ends (backdated to its start, a child of the turn that ended it).
 */
import type { InspectionEvent } from '../inspection.ts';
import { failSpan, isSampled, runUnrecorded, SpanKind, SpanStatusCode, startSpan, traceparentOf, withSpan } from './tracing.ts';

type TracedEnvelope = { id: string; address: string; event: { type: string }; kind?: string; deliveries: number; traceparent?: string; turnTrace?: string };

/**
 * Applies one message inside its span: the span's `traceparent` goes on the envelope (`turnTrace`) for what the
 * turn sends, arms and starts; the span fails when the turn did. A message of a trace that is not recorded (no
 * `traceparent`, or one whose sampled flag is off) gets no span, and what it sends, arms and starts carries none.
 * `local`: the message was applied in the batch that sent it (local delivery); one that failed there goes through
 * the mailbox, and its span says so.
 */
export function traceTurn(service: string, partition: number, env: TracedEnvelope, apply: () => Promise<void>, failed: () => boolean, local = false): Promise<void> {
  if (env.traceparent === undefined || !isSampled(env.traceparent)) {
    env.turnTrace = undefined;
    return apply();
  }
  return recordTurn(service, partition, env, apply, failed, local);
}

async function recordTurn(service: string, partition: number, env: TracedEnvelope, apply: () => Promise<void>, failed: () => boolean, local: boolean): Promise<void> {
  const type = env.address.split('/')[1] ?? '?';
  const span = startSpan(`${type} ${env.event.type}`, env.traceparent, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'mailroom.service': service,
      'mailroom.partition': partition,
      'mailroom.actor': env.address,
      'mailroom.message.id': env.id,
      'mailroom.message.kind': env.kind || 'message',
      'mailroom.deliveries': env.deliveries,
      ...(local ? { 'mailroom.local': true } : {}),
    },
  });
  env.turnTrace = traceparentOf(span);
  try {
    await apply();
  } catch (error) {
    failSpan(span, error);
    throw error;
  }
  if (failed()) {
    const message = local ? 'not applied in the batch that sent it; it goes through the mailbox' : 'the turn failed; it will be retried or dead-lettered';
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}

/**
 * Runs an effect inside its span; resolves with the effect's `traceparent` for its outcome message. An effect of a
 * trace that is not recorded (`parent` undefined, or not sampled) runs in an unrecorded trace: the calls it makes say
 * so, and its outcome message carries nothing.
 */
export function traceEffect<T>(src: string, key: string, parent: string | undefined, run: () => Promise<T>): { result: Promise<T>; traceparent: string | undefined } {
  if (parent === undefined || !isSampled(parent)) return { result: runUnrecorded(run), traceparent: undefined };
  const span = startSpan(`effect ${src}`, parent, { kind: SpanKind.INTERNAL, attributes: { 'mailroom.effect': src, 'mailroom.effect.key': key } });
  const result = withSpan(span, run).then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      failSpan(span, error);
      throw error;
    },
  );
  return { result, traceparent: traceparentOf(span) };
}

const STEP_ENDS = new Set(['succeeded', 'failed', 'timedOut', 'compensated', 'parked']);

/** A span for each saga step or compensation a turn ended, under that turn's span. */
export function traceSagaSteps(notes: readonly { type: string }[], turnTrace: string, now: number): void {
  if (!isSampled(turnTrace)) return;
  for (const note of notes) {
    if (note.type !== 'saga.step') continue;
    const step = note as Extract<InspectionEvent, { type: 'saga.step' }>;
    if (!STEP_ENDS.has(step.phase) || step.step === 'saga') continue;
    const startTime = now - (step.durationMs ?? 0);
    const compensation = step.phase === 'compensated' || step.step.startsWith('undo');
    const span = startSpan(`saga ${step.saga} ${compensation ? 'compensation' : 'step'} ${step.step}`, turnTrace, {
      startTime,
      attributes: { 'mailroom.saga': step.saga, 'mailroom.saga.id': step.sagaId, 'mailroom.saga.step': step.step, 'mailroom.saga.phase': step.phase },
    });
    if (step.phase !== 'succeeded' && step.phase !== 'compensated') span.setStatus({ code: SpanStatusCode.ERROR, message: step.reason ?? step.phase });
    span.end(now);
  }
}
