/**
 * What the control plane answers, as the panel reads it: the `/control/*` contract written down once for the panel.
 * Inspection events and machine graphs come from the runtime as types only, so the panel draws exactly what the
 * runtime emits.
 */
import type { InspectionEvent } from '../../../../runtime/inspection.ts';
import type { MachineGraph } from '../../../../runtime/machine-graph.ts';

export type { InspectionEvent, InspectionEventType, BreakerState } from '../../../../runtime/inspection.ts';
export type { GraphState, GraphTransition, MachineGraph } from '../../../../runtime/machine-graph.ts';

/** An inspection event with the id the stream gave it (`<entry id>/<index>`). */
export type LiveEvent = InspectionEvent & { id: string };

export type ProcessStatus = 'starting' | 'up' | 'down' | 'restarting' | 'stopped';

export type ProcessRow = {
  name: string;
  pid: number | null;
  status: ProcessStatus;
  restarts: number;
  uptimeMs: number;
  url: string;
  port: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
};

export type NodeRow = {
  nodeId: string;
  service: string;
  pid: number;
  partitions: number[];
  processed: number;
  actors: number;
  lastSeenMs: number;
};

export type Topology = {
  processes: ProcessRow[];
  nodes: NodeRow[];
  partitions: { service: string; partition: number; owner: string | null; token: number | null }[];
  redis: { ok: boolean; latencyMs: number | null; usedMemoryBytes: number | null; version: string | null };
  rates: { windowS: number; services: { service: string; processedPerSec: number }[]; links: { from: string; to: string; perSec: number }[] };
};

export type Stats = {
  sagas: { completed: number; compensated: number; parked: number; running: number };
  ordersPerSec: number;
  sagaLatencyMs: { p50: number | null; p99: number | null };
};

export type ActorSummary = { address: string; state: string };
export type ActorPage = { items: ActorSummary[]; cursor: string | null };

export type TransitionRow = Extract<InspectionEvent, { type: 'actor.transition' }> & { id?: string };

export type ActorDetail = {
  address: string;
  state: string;
  context: unknown;
  version: number;
  status?: string;
  machine: MachineGraph | null;
  transitions: TransitionRow[];
};

export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'parked';

export type SagaLogEntry = {
  at: number;
  sinceStartMs?: number;
  step: string;
  phase: 'started' | 'succeeded' | 'failed' | 'timedOut' | 'retrying' | 'compensating' | 'compensated' | 'parked' | 'completed';
  attempt?: number;
  durationMs?: number;
  reason?: string;
};

export type SagaSummary = {
  orderId: string;
  saga: string;
  status: SagaStatus;
  /** The machine state it is in: a step, undo<Step>, completed, compensated or failedNeedsOperator. */
  step: string;
  reason?: string;
  failedStep?: string;
  parkedAt?: string;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number;
};

export type SagaView = SagaSummary & { data: Record<string, unknown>; log: SagaLogEntry[] };
export type SagaPage = { items: SagaSummary[]; cursor: string | null };

export type BreakerRow = {
  process: string;
  dependency: string;
  state: string;
  reason: string;
  since: number;
  retryAfterMs?: number | null;
  window?: { calls: number; failures: number; slowCalls: number; failureRate: number; slowCallRate: number; description: string } | null;
  thresholds?: { minimumCalls: number; failureRateThreshold: number; slowCallRateThreshold: number; slowCallDurationMs: number } | null;
  lastTrips: { at: number; reason: string }[];
  /** Set when the process holding the breaker did not answer. */
  unreachable?: boolean;
  error?: string;
};

export type DeadLetterRow = {
  service: string;
  partition: number;
  id: string;
  messageId: string;
  actor: string;
  event: string;
  error: string;
  deliveries: number;
  failedAt: number;
};

// The rule shapes are the runtime's own (defined once, imported as types).
export type { ChaosKind, ChaosRule, ChaosTarget } from '../../../../runtime/chaos/chaos-rule.ts';
import type { ChaosKind, ChaosTarget } from '../../../../runtime/chaos/chaos-rule.ts';
import type { LinkFaultKind } from '../../../../runtime/redis/link-fault-kinds.ts';
export type { LinkFaultKind };

export type NewChaosRule = {
  kind: ChaosKind;
  target: ChaosTarget;
  probability: number;
  latencyMs?: { min: number; max: number };
  status?: number;
  fault?: LinkFaultKind;
  durationMs: number;
  note?: string;
};

export type Scenario = { name: string; title?: string; description?: string; durationMs?: number };

export type LoadStatus = {
  running: boolean;
  ratePerSec: number;
  placed: number;
  accepted: number;
  failed: number;
  startedAt?: number | null;
  endsAt?: number | null;
};

export type StranglerView = { weight: number };

/** The JSON error body every process answers with. */
export type ErrorBody = { code: string; message: string; details?: unknown };

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
