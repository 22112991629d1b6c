/**
 * Mailroom's core: actors, the node that hosts them, sagas, addresses, the event log, the clock, inspection events,
 * how a process ends, and the chaos rule book each node follows. A hand-picked list (as
 * xstate's `packages/core/src/index.ts`); code outside `runtime/` imports the runtime only through this file and the
 * other entry points, each for one side of it:
 *
 * - `runtime/http/index.ts`: the HTTP frame every process serves (Elysia app, errors, OpenAPI, listen).
 * - `runtime/resilience/index.ts`: breakers, retries, timeouts, bulkheads and the HTTP client built on them.
 * - `runtime/ops/index.ts`: the operations side — cluster view, inspection tail, writing chaos rules.
 * - `runtime/supervisor/index.ts`: starting and watching the processes, and their table in Redis.
 * - `runtime/redis/index.ts`: the Redis link, and the fault link that makes it misbehave on purpose.
 * - `runtime/observe/index.ts`: Prometheus configuration for what the processes expose.
 * - `runtime/discovery/index.ts`: the registry's HTTP addresses, and the live instances of a service.
 * - `runtime/config.ts`: what every process reads from its environment (imports nothing, so build tools running
 *   under Node — the panel's Vite config — can load it too).
 *
 * Nothing this file reaches imports `ops`, `http` or `supervisor` (a test holds it to that).
 */
export { defineActor, effect, note, publish, reply, tell } from './actor/define-actor.ts';
export type { ActorDefinition, ActorOptions, EffectArgs, EffectFn, MailroomEvent, Migration, PersistedSnapshot } from './actor/define-actor.ts';
export { CannotMigrate, cannotMigrate, RecordFromNewerVersion, RecordNotRestorable, renameStates } from './actor/migration.ts';
export { formatAddress, isAddress, parseAddress, partitionOf, InvalidAddressError } from './address.ts';
export type { Address, ParsedAddress } from './address.ts';

// The node.
export { createNode, AskFailedError, AskTimeoutError } from './node/node.ts';
export type { ActorPage, ActorView, AskResult, DeadLetter, MailroomNode, NodeOptions, SendOptions } from './node/node.ts';
export { InvalidCursorError } from './node/actor-index.ts';
export { commitReplicasFromEnv, ReplicasUnconfirmedError, type CommitReplicas } from './node/replica-wait.ts';
export { UnknownServiceError } from './unknown-service-error.ts';

// Admission control: new work refused at the door (429 / 503 with a retry time) while a service is too far behind.
export { admissionBoundsFromEnv, DEFAULT_ADMISSION_BOUNDS } from './admission/admission-bounds.ts';
export type { AdmissionBounds } from './admission/admission-bounds.ts';
export { openAdmission } from './admission/admission.ts';
export type { Admission } from './admission/admission.ts';
export { AdmissionRefusedError } from './admission/admission-refused-error.ts';
export { InFlightLimit } from './admission/in-flight-limit.ts';
export type { InFlightLimitOptions } from './admission/in-flight-limit.ts';
export { openInFlight } from './admission/in-flight.ts';
export type { InFlight } from './admission/in-flight.ts';
export type { AdmissionReason } from './admission/admission-refused-error.ts';

// The event log.
export { GAP_EVENT_TYPE, isGapNotice, readEvents, subscribeEvents, tailEvents } from './event-log.ts';
export type { DomainEvent, EventSubscription, EventTail, GapNotice, SubscribeOptions } from './event-log.ts';

// Sagas.
export { defineSaga } from './saga/define-saga.ts';
export type { ReplyTypes, Saga, SagaCommand, SagaCompletionStep, SagaContext, SagaLogEntry, SagaOptions, SagaStep } from './saga/define-saga.ts';
export { answer, answerAsk, answerWaiters, participant, waiterOf, withWaiter } from './saga/participant.ts';
export type { AnswerArgs, ParticipantReply, Waiter } from './saga/participant.ts';

// Time and randomness.
export { SimulatedClock, seededRandom, systemClock, systemRandom } from './clock.ts';
export type { Clock, Random } from './clock.ts';

// Inspection: the one typed union of what the panel shows, how a process writes it, and machines as graphs.
export type * from './inspection.ts';
export { openInspector } from './node/inspection-writer.ts';
export { machineGraph } from './machine-graph.ts';
export type { GraphState, GraphTransition, MachineGraph } from './machine-graph.ts';

// Every process's end (what it reads from its environment is `runtime/config.ts`).
export { onShutdown } from './process/shutdown.ts';

// Failure injection as every process follows it (rules are written through `runtime/ops`).
export { InjectedFault } from './chaos/chaos-rule.ts';
export type { ChaosKind, ChaosRule, ChaosTarget } from './chaos/chaos-rule.ts';
export { RuleBook, openRuleBook } from './chaos/rule-book.ts';
export type { ChaosHit } from './chaos/rule-book.ts';
