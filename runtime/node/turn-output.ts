/**
 * Encodes what one step decided into what the commit stores and sends: mailbox entries for its tells, event-log
 * entries, timers, effects, inspection events and the asker's answer. It runs inside the step (as its check), so
 * a value JSON cannot hold, or a tell to a service whose mailboxes are not known yet, fails or pauses that one
 * step — never the batch, never the partition.
 */
import type { HostedActor, StepOutput } from '../actor/hosted-actor.ts';
import type { Clock } from '../clock.ts';
import type { InspectionEvent } from '../inspection.ts';
import type { ReplyPayload, TurnOutput } from './batch.ts';
import type { EffectRecord } from './effect-runner.ts';
import { entryFields, newMessageId, type Envelope } from './envelope.ts';
import type { Router } from './router.ts';
import { traceSagaSteps } from '../observe/turn-spans.ts';

/** A tell's target service is not in the router's cache: look it up, then apply the message again. */
export class NeedsLookup extends Error {
  constructor(readonly service: string) {
    super(`the partitions of service "${service}" are not known yet`);
  }
}

export type TurnContext = {
  service: string;
  nodeId: string;
  router: Router;
  replyChannel(nodeId: string): string;
  wantsMessageEvents(): boolean;
  clock: Clock;
};

/** The answer an asker gets: the actor's state now. */
export function answerOf(actor: HostedActor, reply: unknown, handled: boolean, duplicate: boolean): ReplyPayload {
  return { q: '', ok: true, state: actor.state, context: actor.snapshot.context, reply, handled, duplicate };
}

export function encodeTurn(ctx: TurnContext, actor: HostedActor, env: Envelope, out: StepOutput): TurnOutput {
  const source = ctx.service;
  const at = ctx.clock.now();
  const turn: TurnOutput = { outbox: [], events: [], timers: [], effectsSet: [], effectsDel: out.effectsStopped, inspections: [] };
  for (const tell of out.tells) {
    const mbox = ctx.router.mailboxOf(tell.to);
    if (mbox === undefined) throw new NeedsLookup(tell.to.slice(0, tell.to.indexOf('/')));
    turn.outbox.push({ mbox, fields: entryFields({ id: tell.id ?? newMessageId(), address: tell.to, event: tell.event, from: env.address, traceparent: env.turnTrace }) });
  }
  for (const e of out.published) {
    turn.events.push(JSON.stringify({ id: newMessageId(), ...e, type: e.type, aggregate: actor.address, at, cause: env.id }));
  }
  for (const timerId of out.timersCancelled) {
    turn.timers.push([`${actor.address}|${timerId}`, null]);
    turn.inspections.push({ type: 'timer.cancelled', at, source, actor: actor.address, timerId, dueAt: 0 });
  }
  for (const arm of out.timersArmed) {
    // From the moment the step decided it, not the batch's start, rounded up: a timer never fires before its delay.
    const due = Math.ceil(at + arm.delayMs);
    turn.timers.push([`${actor.address}|${arm.timerId}`, [due, JSON.stringify({ m: arm.token, a: actor.address, e: JSON.stringify(arm.event), p: env.turnTrace })]]);
    turn.inspections.push({ type: 'timer.armed', at, source, actor: actor.address, timerId: arm.timerId, dueAt: due });
  }
  for (const fx of out.effectsStarted) {
    const record: EffectRecord = { key: fx.key, address: actor.address, invokeId: fx.invokeId, src: fx.src, input: fx.input };
    if (env.turnTrace) record.trace = env.turnTrace;
    turn.effectsSet.push([record, JSON.stringify(record)]);
  }
  for (const note of out.notes) turn.inspections.push({ ...note, at, source } as InspectionEvent);
  if (env.turnTrace && out.notes.length) traceSagaSteps(out.notes, env.turnTrace, at);
  if (env.replyTo) {
    const payload = answerOf(actor, out.replies[0], out.handled, false);
    payload.q = env.replyTo.q;
    // A remote answer travels as JSON: encode it now, so a reply JSON cannot hold fails this step.
    turn.reply = { to: env.replyTo, payload, json: env.replyTo.n === ctx.nodeId ? undefined : JSON.stringify(payload) };
  }
  if (out.from !== out.to || ctx.wantsMessageEvents()) {
    turn.inspections.push({ type: 'actor.transition', at, source, actor: actor.address, event: env.event.type, from: out.from, to: out.to, handled: out.handled, messageId: env.id });
  }
  return turn;
}
