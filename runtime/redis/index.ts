/**
 * The runtime's connection to Redis as a value (`RedisLink`: one `call`, one `close`), and the fault link that wraps
 * one to make it misbehave on purpose — calls that fail, lost replies, resets, latency, stalls — as a node's
 * `wrapLink` in tests and as `redis` chaos rules apply it. `LuaScript` runs a script by EVALSHA, falling back to
 * EVAL when Redis does not know it yet (an application's own scripts use it too).
 */
// node-redis traces nothing nobody subscribed to (Bun's TracingChannel lacks hasSubscribers): for every importer.
import './tracing-channel.ts';
export type { RedisArg, RedisLink } from './link.ts';
export { LuaScript } from './script.ts';
export { FaultLink, LINK_FAULT_KINDS, LinkFaultError, withFaults } from './fault-link.ts';
export type { LinkFaultKind, LinkFaultPlan } from './fault-link.ts';
// Redis Cluster: the options node-redis' createCluster takes for an address, and which key routes a command.
export { clusterOptions } from './cluster-link.ts';
export { isClusterUrl } from './cluster-url.ts';
export { firstKeyOf } from './command-keys.ts';
export { redactedUrl } from './redacted-url.ts';
