/**
 * Restoring a record written by another version of its actor type. A record of the same version restores as it
 * is; an older one runs through the type's migrations in turn (1 → 2 → 3), and what comes out must be a state the
 * machine has. A record that cannot be brought to this version is refused with a reason its dead letter carries; one
 * written by a newer version than this node knows (a rolling upgrade) is refused as "newer", which the partition
 * holds back for a node that knows that version. XState restores no delayed events, and the runtime's durable timers
 * are named after the states that armed them, so a migration also carries the record's `after` timers over to the
 * migrated states (see `carryTimers`).
 */
import type { StateValue } from 'xstate';
import type { ActorDefinition, PersistedSnapshot } from './define-actor.ts';

/** What is stored per actor: the persisted snapshot, armed timers (token → timer id), running effects (invoke id → key), and the version of the definition that wrote it (absent: 1). */
export type ActorRecord = { s: unknown; t?: Record<string, string>; f?: Record<string, string>; m?: number };

/** A timer a migrated state needs and the record did not have: armed by the actor's next turn. */
export type TimerToArm = { timerId: string; delayMs: number; event: { type: string } };

export type RestoredRecord = {
  record: ActorRecord;
  /** The version that wrote the record, when it was migrated (null when it was written by this version). */
  migratedFrom: number | null;
  timersToArm: TimerToArm[];
};

/**
 * Thrown by a migration that refuses a record, with the reason its dead letter will show.
 *
 * @example
 * migrate: { 1: (snapshot) => (snapshot.value === 'legacyReview' ? cannotMigrate('legacy reviews were retired; settle by hand') : snapshot) }
 */
export class CannotMigrate extends Error {
  readonly code = 'CANNOT_MIGRATE';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Refuses a record inside a migration (see `CannotMigrate`). */
export function cannotMigrate(reason: string): never {
  throw new CannotMigrate(reason);
}

/** A record this node's definition cannot restore: its messages are dead-lettered with this message. */
export class RecordNotRestorable extends Error {
  readonly code = 'RECORD_NOT_RESTORABLE';
  constructor(
    readonly actorType: string,
    readonly fromVersion: number,
    readonly toVersion: number,
    readonly why: string,
  ) {
    super(`record of ${actorType} v${fromVersion} cannot be restored by v${toVersion}: ${why}`);
  }
}

/** A record written by a newer version than this node knows: held back, never applied or dead-lettered here. */
export class RecordFromNewerVersion extends Error {
  readonly code = 'RECORD_FROM_NEWER_VERSION';
  constructor(
    readonly actorType: string,
    readonly storedVersion: number,
    readonly knownVersion: number,
  ) {
    super(`record of ${actorType} was written by v${storedVersion}, this node knows v${knownVersion}: held back for a node that knows v${storedVersion}`);
  }
}

/** The version that wrote a record (records from before versions existed are version 1). */
export function versionOf(record: ActorRecord): number {
  return record.m ?? 1;
}

/**
 * Brings a stored record to the definition's version, or throws `RecordNotRestorable` / `RecordFromNewerVersion`.
 *
 * @example
 * const { record, timersToArm } = restoreRecord(def, JSON.parse(stored));
 */
export function restoreRecord(def: ActorDefinition, stored: ActorRecord): RestoredRecord {
  const from = versionOf(stored);
  const to = def.version;
  if (!Number.isInteger(from) || from < 1) throw new RecordNotRestorable(def.type, from, to, `its version ${JSON.stringify(stored.m)} is not an integer ≥ 1`);
  if (from > to) throw new RecordFromNewerVersion(def.type, from, to);
  let snapshot = stored.s as PersistedSnapshot;
  for (let v = from; v < to; v++) {
    const step = def.migrations.get(v);
    if (!step) throw new RecordNotRestorable(def.type, from, to, `no migration from ${v}`);
    try {
      snapshot = step(structuredClone(snapshot));
    } catch (error) {
      const why = error instanceof CannotMigrate ? `the migration from ${v} refused it: ${error.reason}` : `the migration from ${v} threw: ${error instanceof Error ? error.message : String(error)}`;
      throw new RecordNotRestorable(def.type, from, to, why);
    }
    if (!snapshot || typeof snapshot !== 'object' || snapshot.value === undefined) {
      throw new RecordNotRestorable(def.type, from, to, `the migration from ${v} returned no snapshot (it must return the snapshot with a state value)`);
    }
  }
  let resolved;
  try {
    resolved = def.hosted.resolveState({ value: snapshot.value, context: snapshot.context });
  } catch (error) {
    const why = `state ${JSON.stringify(snapshot.value)} does not exist in v${to} (${error instanceof Error ? error.message : String(error)})`;
    throw new RecordNotRestorable(def.type, from, to, from === to ? `${why}; was the machine changed without raising its version?` : why);
  }
  if (from === to) return { record: stored, migratedFrom: null, timersToArm: [] };
  const record: ActorRecord = { ...stored, s: snapshot, m: to };
  const timersToArm = carryTimers(def, record, (resolved as unknown as { _nodes: ActiveNode[] })._nodes, snapshot.context);
  return { record, migratedFrom: from, timersToArm };
}

type ActiveNode = { id: string; after?: { delay: string | number; eventType: string }[] };

const AFTER = 'xstate.after.';

/**
 * Carries the record's `after` timers over to the migrated states. An armed timer is named after its state node
 * (`xstate.after.<delay>.<node id>`), so a renamed state's timer would fire an event the new machine ignores. Each
 * armed timer whose state is no longer active is matched to an active state's `after` of the same delay that has no
 * timer, and keeps its due time. An active `after` left without a timer is returned, to be armed by the actor's next
 * turn; a timer left unmatched stays armed, so its firing is such a turn even when no message comes (its own event
 * names a state the machine is not in, and is ignored).
 */
function carryTimers(def: ActorDefinition, record: ActorRecord, nodes: readonly ActiveNode[], context: unknown): TimerToArm[] {
  const wanted = new Map<string, string>();
  for (const node of nodes) for (const t of node.after ?? []) wanted.set(t.eventType, String(t.delay));
  const timers = { ...(record.t ?? {}) };
  const armed = new Set(Object.values(timers));
  const unclaimed = [...wanted.keys()].filter((id) => !armed.has(id));
  for (const [token, timerId] of Object.entries(timers)) {
    if (!timerId.startsWith(AFTER) || wanted.has(timerId)) continue;
    const delay = timerId.slice(AFTER.length, timerId.indexOf('.', AFTER.length));
    const match = unclaimed.findIndex((id) => wanted.get(id) === delay);
    if (match >= 0) timers[token] = unclaimed.splice(match, 1)[0]!;
  }
  if (Object.keys(timers).length) record.t = timers;
  const delays = (def.hosted.implementations?.delays ?? {}) as Record<string, unknown>;
  return unclaimed.map((timerId) => {
    const ref = wanted.get(timerId)!;
    const impl = Number.isFinite(Number(ref)) ? Number(ref) : delays[ref];
    const delayMs = typeof impl === 'function' ? Number(impl({ context, event: { type: 'xstate.init' } }, undefined)) : Number(impl);
    return { timerId, delayMs, event: { type: timerId } };
  });
}

/**
 * Renames states in a snapshot's state value, for a migration: keys are state paths of the old machine (`paying`,
 * `checkout.paying`), values their paths in the new one. The longest matching path wins; the rest of the value is
 * kept.
 *
 * @example
 * migrate: { 1: (snapshot) => renameStates(snapshot, { scheduleShipment: 'arrangeShipment', 'checkout.paying': 'checkout.charging' }) }
 */
export function renameStates<S extends { value: StateValue }>(snapshot: S, renames: Record<string, string>): S {
  const paths = leafPaths(snapshot.value).map((path) => {
    for (let n = path.length; n > 0; n--) {
      const to = renames[path.slice(0, n).join('.')];
      if (to !== undefined) return [...to.split('.'), ...path.slice(n)];
    }
    return path;
  });
  return { ...snapshot, value: valueOf(paths) };
}

function leafPaths(value: StateValue): string[][] {
  if (typeof value === 'string') return [[value]];
  const out: string[][] = [];
  for (const [key, child] of Object.entries(value)) {
    const below = child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? [[]] : leafPaths(child as StateValue);
    for (const rest of below) out.push([key, ...rest]);
  }
  return out;
}

type Tree = Map<string, Tree>;

function valueOf(paths: string[][]): StateValue {
  const root: Tree = new Map();
  for (const path of paths) {
    let at = root;
    for (const key of path) {
      if (!at.has(key)) at.set(key, new Map());
      at = at.get(key)!;
    }
  }
  const toValue = (tree: Tree): StateValue => {
    const entries = [...tree];
    if (entries.length === 1 && entries[0]![1].size === 0) return entries[0]![0];
    return Object.fromEntries(entries.map(([key, sub]) => [key, sub.size === 0 ? {} : toValue(sub)])) as StateValue;
  };
  return toValue(root);
}
