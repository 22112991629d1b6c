/**
 * Each actor's recent transitions, newest first, kept from the inspection stream as it is followed (the actor view
 * shows them beside the statechart). Bounded: 50 per actor, and the actors least recently changed are forgotten
 * first beyond `maxActors`.
 */
import type { ActorTransitionEvent } from '../../runtime/index.ts';
import type { TailedEvent } from '../../runtime/ops/index.ts';

export type TransitionRow = ActorTransitionEvent & { id: string };

export const TRANSITIONS_PER_ACTOR = 50;

export class ActorHistory {
  private readonly byActor = new Map<string, TransitionRow[]>();

  constructor(private readonly maxActors = 20_000) {}

  add({ id, event }: TailedEvent): void {
    if (event.type !== 'actor.transition') return;
    const rows = this.byActor.get(event.actor) ?? [];
    this.byActor.delete(event.actor); // re-inserted last: the most recently changed
    rows.unshift({ ...event, id });
    if (rows.length > TRANSITIONS_PER_ACTOR) rows.length = TRANSITIONS_PER_ACTOR;
    this.byActor.set(event.actor, rows);
    if (this.byActor.size > this.maxActors) this.byActor.delete(this.byActor.keys().next().value!);
  }

  /** Newest first; empty when none was seen. */
  recent(address: string): TransitionRow[] {
    return [...(this.byActor.get(address) ?? [])];
  }

  /** Whether any transition of this actor is known. */
  has(address: string): boolean {
    return this.byActor.has(address);
  }
}
