/**
 * Mailroom's runtime: the hand-picked list of what services and sagas may use (as xstate's
 * `packages/core/src/index.ts`). Nothing outside `runtime/` imports a runtime file directly.
 */
export { defineActor, effect, note, publish, reply, tell } from './actor/define-actor.ts';
export type { ActorDefinition, ActorOptions, EffectArgs, EffectFn, MailroomEvent } from './actor/define-actor.ts';
export { formatAddress, parseAddress, partitionOf, InvalidAddressError } from './address.ts';
export type { Address, ParsedAddress } from './address.ts';
export { createNode, AskFailedError, AskTimeoutError } from './node/node.ts';
export { commitReplicasFromEnv, ReplicasUnconfirmedError, type CommitReplicas } from './node/replica-wait.ts';
export type { ActorView, AskResult, DeadLetter, MailroomNode, NodeOptions, SendOptions } from './node/node.ts';
export { admissionBoundsFromEnv, DEFAULT_ADMISSION_BOUNDS } from './admission/admission-bounds.ts';
export type { AdmissionBounds } from './admission/admission-bounds.ts';
export { openAdmission } from './admission/admission.ts';
export type { Admission } from './admission/admission.ts';
export { AdmissionRefusedError } from './admission/admission-refused-error.ts';
export type { AdmissionReason } from './admission/admission-refused-error.ts';
export { readEvents } from './event-log.ts';
export { GAP_EVENT_TYPE, isGapNotice, subscribeEvents } from './event-log.ts';
export type { DomainEvent, EventSubscription, GapNotice, SubscribeOptions } from './event-log.ts';
export { tailInspection } from './inspection-tail.ts';
export type { TailedEvent } from './inspection-tail.ts';
export { openProcessTable, KILL_SIGNALS, PROCESS_ACTIONS } from './supervisor/process-table.ts';
export type { KillSignal, ProcessAction, ProcessCommand, ProcessRecord, ProcessStatus, ProcessTable } from './supervisor/process-table.ts';
export { openClusterView, InvalidCursorError } from './cluster-view.ts';
export { UnknownServiceError } from './unknown-service-error.ts';
export type { ActorPage, ClusterView, LeaseInfo, NodeInfo, RedisHealth } from './cluster-view.ts';
export { machineGraph } from './machine-graph.ts';
export type { GraphState, GraphTransition, MachineGraph } from './machine-graph.ts';
export { openInspector } from './node/inspection-writer.ts';
export type * from './inspection.ts';
export { SimulatedClock, seededRandom, systemClock, systemRandom } from './clock.ts';
export type { Clock, Random } from './clock.ts';

// The HTTP frame every process builds on.
export { createServiceApp, ErrorBodySchema } from './http/service-app.ts';
export type { ServiceAppOptions } from './http/service-app.ts';
export { HttpError, validationError } from './http/http-error.ts';
export type { ErrorBody as HttpErrorBody, ValidationIssue } from './http/http-error.ts';
export { listen } from './http/listen.ts';
export { answers, BACKLOG_UNREADABLE_ANSWER, OVERLOADED_ANSWER, pageLimit } from './http/openapi-document.ts';
export type { BearerSecurity, DocumentTag } from './http/openapi-document.ts';
export { onShutdown } from './process/shutdown.ts';
export { hostOf, keyPrefixOf, portFromEnv, redisUrlOf } from './config.ts';

// Service discovery: the registry's HTTP addresses, and the live instances of a service.
export * from './discovery/index.ts';

// The resilience kit.
export * from './resilience/index.ts';

// Sagas.
export { defineSaga } from './saga/define-saga.ts';
export type { Saga, SagaCommand, SagaCompletionStep, SagaContext, SagaLogEntry, SagaOptions, SagaStep } from './saga/define-saga.ts';

// Failure injection (chaos).
export { CHAOS_KINDS, InjectedFault, ruleProblems } from './chaos/chaos-rule.ts';
export type { ChaosKind, ChaosRule, ChaosTarget } from './chaos/chaos-rule.ts';
export { ChaosStore, RuleBook, openChaosStore, openRuleBook } from './chaos/rule-book.ts';
export type { ChaosHit } from './chaos/rule-book.ts';
export { FaultLink, LINK_FAULT_KINDS, LinkFaultError, withFaults } from './redis/fault-link.ts';
export type { LinkFaultKind, LinkFaultPlan } from './redis/fault-link.ts';
export type { RedisArg, RedisLink } from './redis/link.ts';
