/**
 * What the control plane answers, as the panel reads it. The shapes the control plane and the runtime declare —
 * inspection events, machine graphs, the process table, the topology, sagas, breakers, chaos rules, the load
 * generator — are imported from them as types only (nothing of theirs reaches the bundle), so the panel reads
 * exactly what they answer; only the gateway's few shapes the panel uses are written down here.
 */
import type { InspectionEvent, MachineGraph } from '../../../../runtime/index.ts';

export type { InspectionEvent, InspectionEventType, BreakerState, GraphState, GraphTransition, MachineGraph } from '../../../../runtime/index.ts';

/** An inspection event with the id the stream gave it (`<entry id>/<index>`). */
export type LiveEvent = InspectionEvent & { id: string };

export type { ProcessRecord as ProcessRow, ProcessStatus } from '../../../../runtime/supervisor/index.ts';
export type { Topology, TopologyNode as NodeRow } from '../../../../services/control/topology-routes.ts';
export type { Stats } from '../../../../services/control/saga-stats.ts';

import type { ActorPage } from '../../../../runtime/index.ts';
export type { ActorPage };
export type ActorSummary = ActorPage['items'][number];

/** Time travel: an actor's committed versions, and the actor as one of them left it. */
export type { ActorHistoryPage, ActorSnapshotAt } from '../../../../runtime/ops/index.ts';
import type { ActorHistoryPage } from '../../../../runtime/ops/index.ts';
export type ActorVersion = ActorHistoryPage['items'][number];

export type TransitionRow = Extract<InspectionEvent, { type: 'actor.transition' }> & { id?: string };

export type ActorDetail = {
  address: string;
  state: string;
  context: unknown;
  version: number;
  /** The version of the actor type's definition that wrote the record. */
  machineVersion: number;
  status?: string;
  machine: MachineGraph | null;
  transitions: TransitionRow[];
};

export type { SagaStatus } from '../../../../runtime/http/index.ts';
export type { SagaLogEntry } from '../../../../runtime/index.ts';
export type {
  FulfillmentSagaPage as SagaPage,
  FulfillmentSagaSummary as SagaSummary,
  FulfillmentSagaView as SagaView,
} from '../../../../services/order/saga-protocol.ts';

export type { BreakerRow, SharedBreakerRow } from '../../../../services/control/breaker-routes.ts';

export type { DeadLetterRow } from '../../../../services/control/deadletter-routes.ts';

// The rule shapes are the runtime's own (defined once, imported as types).
export type { ChaosKind, ChaosRule, ChaosTarget } from '../../../../runtime/index.ts';
import type { ChaosKind, ChaosTarget } from '../../../../runtime/index.ts';
import type { LinkFaultKind } from '../../../../runtime/redis/index.ts';
export type { LinkFaultKind };

export type { NewRule as NewChaosRule } from '../../../../services/control/protocol.ts';

export type Scenario = { name: string; title?: string; description?: string; durationMs?: number };

export type { LoadStatus } from '../../../../services/control/load-generator.ts';

export type StranglerView = { weight: number };

/** The JSON error body every process answers with. */
export type { ErrorBody } from '../../../../runtime/http/index.ts';

export type CatalogueItem = { sku: string; name: string; price: number; available: number };
export type OrderAccepted = { orderId: string; state: string; links: { self: string } };
/** One notice in the notifications outbox (`GET /control/notifications`): exactly one per settled order. */
export type Notice = {
  orderId: string;
  kind: 'confirmation' | 'cancellation';
  to: { name: string; email: string } | null;
  subject: string;
  text: string;
  eventId: string;
  sentAt: number;
};
export type NoticePage = { items: Notice[]; cursor: string | null };

export type OrderDetail = {
  orderId: string;
  order: { orderId: string; state: string; total: number; reason?: string; createdAt: number; updatedAt: number };
  saga?: { status: string; step: string; reason?: string } | null;
  degraded: string[];
};
