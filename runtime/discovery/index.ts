/**
 * Service discovery, hand-picked: where a process advertises itself (`advertisedAddress`, `announce` for processes
 * without actors — runtime nodes advertise through `createNode({ advertise })`) and how callers find live instances
 * (`openDiscovery`). The resilient HTTP client spreads calls over them (`DependencyOptions.instances`).
 */
export { advertisedAddress } from './advertised-address.ts';
export { announce } from './announce.ts';
export type { AnnounceOptions, Announcement } from './announce.ts';
export { Discovery, openDiscovery } from './discovery.ts';
export type { DiscoveryOptions, Instance } from './discovery.ts';
