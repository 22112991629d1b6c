/** What a fault-injecting Redis link can do to a call (see `fault-link.ts`); kept apart so rule types stay light. */
export const LINK_FAULT_KINDS = ['fail', 'drop-reply', 'reset', 'latency', 'stall'] as const;
export type LinkFaultKind = (typeof LINK_FAULT_KINDS)[number];
