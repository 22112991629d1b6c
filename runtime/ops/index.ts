/**
 * The operations side: what an operator's tools (the control plane, the chaos run, tests) use to look at and poke
 * the whole cluster from outside any node — the cluster view (services, nodes, leases, actors, dead letters, Redis
 * health, inspection history), the live inspection tail, and the chaos store that writes the rules every node's
 * rule book follows. Builds on the core (`runtime/index.ts`); the core never imports it.
 */
export { openClusterView } from './cluster-view.ts';
export type { ActorHistoryPage, ActorSnapshotAt, ClusterView, LeaseInfo, NodeInfo, RedisHealth } from './cluster-view.ts';
export { tailInspection } from './inspection-tail.ts';
export type { TailedEvent } from './inspection-tail.ts';
export { ChaosStore, openChaosStore } from './chaos-store.ts';
export { CHAOS_KINDS, ruleProblems } from '../chaos/chaos-rule.ts';
