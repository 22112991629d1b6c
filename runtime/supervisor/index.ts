/**
 * The supervisor: starts a set of processes (and a private Redis), probes their health, restarts them with backoff,
 * prints their output under one table, and publishes the process table in Redis, where the control plane reads it and
 * pushes commands (kill, restart, pause, …) the supervisor obeys. Used by the composition root (`services/system.ts`)
 * and the control plane.
 */
export { Supervisor, startSupervisor } from './supervisor.ts';
export type { ProcessInfo, SupervisorOptions } from './supervisor.ts';
export { SupervisorBridge } from './redis-bridge.ts';
export type { SupervisorBridgeOptions } from './redis-bridge.ts';
export { SupervisorError, PrerequisiteError } from './errors.ts';
export type { ProcessSpec } from './process-spec.ts';
export { openProcessTable, KILL_SIGNALS, PROCESS_ACTIONS } from './process-table.ts';
export type { KillSignal, ProcessAction, ProcessCommand, ProcessRecord, ProcessStatus, ProcessTable } from './process-table.ts';
export { renderTable } from './table.ts';
export type { TableRow } from './table.ts';
export { useColour } from './output.ts';
export { startLocalCluster } from './local-cluster.ts';
export type { LocalCluster } from './local-cluster.ts';
export { reclaimLeftoverRedis } from './private-redis.ts';
