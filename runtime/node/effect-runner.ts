/**
 * Runs invoked promise effects outside the atomic turn, after the turn that started them committed, and delivers
 * their outcome to the actor's mailbox as `xstate.done.actor.<id>` or `xstate.error.actor.<id>`. At-least-once: a
 * node that takes a partition over runs again every effect recorded there; the outcome message's id is derived from
 * the effect's key, so a second outcome is dropped as a duplicate.
 */
import type { ActorDefinition } from '../actor/define-actor.ts';
import { parseAddress } from '../address.ts';
import { effectDuration } from '../observe/metrics.ts';
import { tracing } from '../observe/tracing.ts';
import { traceEffect } from '../observe/turn-spans.ts';

/** An effect as its actor's record keeps it; `trace` is the `traceparent` of the turn that started it (a recorded trace's). */
export type EffectRecord = { key: string; address: string; invokeId: string; src: string; input: unknown; trace?: string };

export type SendRaw = (msg: { id: string; address: string; event: { type: string; [k: string]: unknown }; kind: string; traceparent?: string }) => Promise<unknown>;

/** An error as plain data, so it can travel in a message. */
export function errorToData(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const data: Record<string, unknown> = { name: error.name, message: error.message };
    for (const k of ['code', 'status', 'retryAfterMs', 'details'] as const) {
      const v = (error as unknown as Record<string, unknown>)[k];
      if (v !== undefined) data[k] = v;
    }
    return data;
  }
  return { name: 'Error', message: String(error) };
}

/** Who runs an effect: the partition worker that launched it (or took it over). */
export type EffectOwner = object;

type Running = { controller: AbortController; owner: EffectOwner | undefined };

export class EffectRunner {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly defs: ReadonlyMap<string, ActorDefinition>,
    private readonly sendRaw: SendRaw,
    private readonly onError: (error: unknown, effect: EffectRecord) => void,
    /** The service, for the effect duration metric. */
    private readonly service = '',
  ) {}

  get active(): number {
    return this.running.size;
  }

  /**
   * Starts an effect unless it is already running in this process; then it changes hands instead, so a worker
   * that re-acquired a partition keeps the effects its stopped predecessor had started.
   */
  launch(effect: EffectRecord, owner?: EffectOwner): void {
    const already = this.running.get(effect.key);
    if (already) {
      already.owner = owner;
      return;
    }
    const def = this.defs.get(parseAddress(effect.address).type);
    const fn = def?.effects.get(effect.src);
    const controller = new AbortController();
    this.running.set(effect.key, { controller, owner });
    const start = () =>
      fn
        ? Promise.resolve().then(() => fn({ input: effect.input, idempotencyKey: effect.key, signal: controller.signal }))
        : Promise.reject(new Error(`no effect "${effect.src}" on actor type ${def?.type ?? '?'}`));
    let run: Promise<unknown>;
    let traceparent: string | undefined;
    // Traced, the effect starts inside its span, so the calls it makes carry it on.
    if (tracing.on) ({ result: run, traceparent } = traceEffect(effect.src, effect.key, effect.trace, start));
    else run = start();
    const started = performance.now();
    const took = (outcome: string) => effectDuration.labels(this.service, effect.src, outcome).observe((performance.now() - started) / 1000);
    run.then(
      (output) => {
        took('done');
        return this.deliver(effect, controller, { type: `xstate.done.actor.${effect.invokeId}`, output }, traceparent);
      },
      (error) => {
        took('error');
        return this.deliver(effect, controller, { type: `xstate.error.actor.${effect.invokeId}`, error: errorToData(error) }, traceparent);
      },
    );
  }

  private async deliver(effect: EffectRecord, controller: AbortController, event: { type: string; [k: string]: unknown }, traceparent?: string) {
    // An aborted effect belongs to a partition this node gave up: its new owner runs it again.
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      try {
        await this.sendRaw({ id: `${effect.key}:outcome`, address: effect.address, event, kind: 'effect', traceparent });
        break;
      } catch (error) {
        // Redis unreachable: keep the outcome and try again rather than lose it.
        if (attempt === 0) this.onError(error, effect);
        await Bun.sleep(Math.min(2_000, 50 * 2 ** attempt));
      }
    }
    if (this.running.get(effect.key)?.controller === controller) this.running.delete(effect.key);
  }

  /** Aborts the effects whose key matches (all when no filter). */
  abort(filter?: (key: string) => boolean): void {
    for (const [key, run] of this.running) {
      if (!filter || filter(key)) {
        run.controller.abort();
        this.running.delete(key);
      }
    }
  }

  /** Aborts the effects an owner runs (a worker that stopped or lost its partition). */
  abortOwnedBy(owner: EffectOwner): void {
    for (const [key, run] of this.running) {
      if (run.owner === owner) {
        run.controller.abort();
        this.running.delete(key);
      }
    }
  }
}
