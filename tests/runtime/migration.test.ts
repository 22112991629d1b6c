/**
 * Restoring a record written by another version of its actor type, without Redis: the migration chain, each way it
 * refuses a record (with the reason its dead letter carries), a record from a newer version, and the `after` timers a
 * migration carries over to renamed states.
 */
import { describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { cannotMigrate, defineActor, RecordFromNewerVersion, RecordNotRestorable, renameStates, type Migration } from '../../runtime/index.ts';
import { restoreRecord, type ActorRecord } from '../../runtime/actor/migration.ts';

/** v1: idle → busy (1.5 s) → done. */
const v1Machine = setup({}).createMachine({
  id: 'job',
  initial: 'idle',
  context: { pokes: 0 },
  states: { idle: { on: { start: 'busy' } }, busy: { after: { 1500: 'done' }, on: { poke: { actions: assign({ pokes: ({ context }) => context.pokes + 1 }) } } }, done: { type: 'final' } },
});
/** v3: `busy` became `working` (same 1.5 s timeout), a `cooling` state waits `coolDown` (from the context), context gained `priority` and `owner`. */
const v3Machine = setup({ delays: { coolDown: ({ context }: { context: { coolMs: number } }) => context.coolMs } }).createMachine({
  id: 'job',
  initial: 'idle',
  context: { pokes: 0, priority: 'normal', owner: 'nobody', coolMs: 700 },
  states: {
    idle: { on: { start: 'working' } },
    working: { after: { 1500: 'cooling' } },
    cooling: { after: { coolDown: 'done' } },
    done: { type: 'final' },
  },
} as any);

const recordIn = (value: unknown, context: Record<string, unknown>, extra: Partial<ActorRecord> = {}): ActorRecord => ({
  s: { status: 'active', value, context, children: {}, historyValue: {} },
  ...extra,
});

const v1to2: Migration = (s) => ({ ...renameStates(s, { busy: 'working' }), context: { ...s.context, priority: 'normal' } });
const v2to3: Migration = (s) => ({ ...s, context: { ...s.context, owner: 'ops', coolMs: 700 } });

describe('restoreRecord', () => {
  it('should run the migrations in turn, 1 → 2 → 3, into a state the machine has', () => {
    const def = defineActor('job', v3Machine, { version: 3, migrate: { 1: v1to2, 2: v2to3 } });
    const { record, migratedFrom } = restoreRecord(def, recordIn('busy', { pokes: 4 }));
    expect(migratedFrom).toBe(1);
    expect(record.m).toBe(3);
    expect(record.s).toMatchObject({ value: 'working', context: { pokes: 4, priority: 'normal', owner: 'ops' } });
  });

  it('should start the chain from the version the record names (a v2 record skips migrate[1])', () => {
    const def = defineActor('job', v3Machine, { version: 3, migrate: { 1: () => cannotMigrate('not for v2 records'), 2: v2to3 } });
    const { record } = restoreRecord(def, recordIn('working', { pokes: 1, priority: 'high' }, { m: 2 }));
    expect(record.s).toMatchObject({ value: 'working', context: { pokes: 1, priority: 'high', owner: 'ops' } });
  });

  it('should restore a record of its own version as it is', () => {
    const def = defineActor('job', v3Machine, { version: 3 });
    const stored = recordIn('cooling', { pokes: 0, priority: 'low', owner: 'me', coolMs: 5 }, { m: 3, t: { tok: 'xstate.after.coolDown.job.cooling' } });
    const restored = restoreRecord(def, stored);
    expect(restored).toEqual({ record: stored, migratedFrom: null, timersToArm: [] });
  });

  it('should refuse a record with no migration path, naming the missing step', () => {
    const def = defineActor('job', v3Machine, { version: 3, migrate: { 2: v2to3 } });
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow(new RecordNotRestorable('job', 1, 3, 'no migration from 1'));
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow('record of job v1 cannot be restored by v3: no migration from 1');
  });

  it('should refuse a record whose migration says it cannot migrate, with its reason', () => {
    const def = defineActor('job', v3Machine, { version: 3, migrate: { 1: () => cannotMigrate('jobs started before 2024 are settled by hand'), 2: v2to3 } });
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow('record of job v1 cannot be restored by v3: the migration from 1 refused it: jobs started before 2024 are settled by hand');
  });

  it('should refuse a record whose migration throws, with the error', () => {
    const def = defineActor('job', v3Machine, {
      version: 3,
      migrate: {
        1: v1to2,
        2: (s) => {
          if (s.context.pokes > 3) throw new Error(`pokes ${s.context.pokes} does not fit the new budget`);
          return s;
        },
      },
    });
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 9 }))).toThrow('record of job v1 cannot be restored by v3: the migration from 2 threw: pokes 9 does not fit the new budget');
  });

  it('should refuse a migrated record whose state does not exist in the new machine', () => {
    const def = defineActor('job', v3Machine, { version: 3, migrate: { 1: (s) => s, 2: v2to3 } });
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow(/^record of job v1 cannot be restored by v3: state "busy" does not exist in v3/);
  });

  it('should refuse a migration that returns nothing', () => {
    const def = defineActor('job', v3Machine, { version: 2, migrate: { 1: (() => undefined) as unknown as Migration } });
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow('record of job v1 cannot be restored by v2: the migration from 1 returned no snapshot');
  });

  it('should say a record of its own version whose state is gone was changed without a new version', () => {
    const def = defineActor('job', v3Machine);
    expect(() => restoreRecord(def, recordIn('busy', { pokes: 0 }))).toThrow(/state "busy" does not exist in v1 .*was the machine changed without raising its version\?$/);
  });

  it('should hold back a record a newer version wrote', () => {
    const def = defineActor('job', v1Machine, { version: 1 });
    const attempt = () => restoreRecord(def, recordIn('working', { pokes: 0 }, { m: 3 }));
    expect(attempt).toThrow(RecordFromNewerVersion);
    expect(attempt).toThrow('record of job was written by v3, this node knows v1: held back for a node that knows v3');
  });

  it('should not let a migration change the stored record it was given', () => {
    const def = defineActor('job', v3Machine, { version: 2, migrate: { 1: (s) => { s.context.pokes = 100; return renameStates(s, { busy: 'working' }); } } });
    const stored = recordIn('busy', { pokes: 1 });
    const { record } = restoreRecord(def, stored);
    expect((record.s as { context: { pokes: number } }).context.pokes).toBe(100);
    expect((stored.s as { context: { pokes: number } }).context.pokes).toBe(1);
  });
});

describe('restoreRecord and timers', () => {
  it('should carry a renamed state’s `after` timer over, keeping its token (and so its due time)', () => {
    const def = defineActor('job', v3Machine, { version: 2, migrate: { 1: v1to2 } });
    const { record, timersToArm } = restoreRecord(def, recordIn('busy', { pokes: 0 }, { t: { tok1: 'xstate.after.1500.job.busy', tok2: 'ping' } }));
    expect(record.t).toEqual({ tok1: 'xstate.after.1500.job.working', tok2: 'ping' });
    expect(timersToArm).toEqual([]);
  });

  it('should arm, from the next turn, an `after` of a migrated state that had no timer (its delay from the context), keeping the old timer as a wake-up', () => {
    const def = defineActor('job', v3Machine, { version: 2, migrate: { 1: (s) => ({ ...s, value: 'cooling', context: { ...s.context, coolMs: 321 } }) } });
    const { record, timersToArm } = restoreRecord(def, recordIn('busy', { pokes: 0 }, { t: { old: 'xstate.after.1500.job.busy', other: 'ping' } }));
    expect(timersToArm).toEqual([{ timerId: 'xstate.after.coolDown.job.cooling', delayMs: 321, event: { type: 'xstate.after.coolDown.job.cooling' } }]);
    // `busy`'s timer serves no state now; it stays armed so its firing gives the actor a turn that arms the new one.
    expect(record.t).toEqual({ old: 'xstate.after.1500.job.busy', other: 'ping' });
  });

  it('should not carry a timer over to an `after` of another delay (a changed timeout starts again)', () => {
    const changed = setup({}).createMachine({ id: 'job', initial: 'working', context: { pokes: 0 }, states: { working: { after: { 4000: 'done' } }, done: {} } });
    const def = defineActor('job', changed, { version: 2, migrate: { 1: (s) => renameStates(s, { busy: 'working' }) } });
    const { record, timersToArm } = restoreRecord(def, recordIn('busy', { pokes: 0 }, { t: { tok1: 'xstate.after.1500.job.busy' } }));
    expect(record.t).toEqual({ tok1: 'xstate.after.1500.job.busy' });
    expect(timersToArm).toEqual([{ timerId: 'xstate.after.4000.job.working', delayMs: 4000, event: { type: 'xstate.after.4000.job.working' } }]);
  });
});

describe('renameStates', () => {
  it('should rename top-level, nested and parallel state paths, longest match first', () => {
    const s = (value: unknown) => ({ value, context: {} }) as any;
    expect(renameStates(s('busy'), { busy: 'working' }).value).toBe('working');
    expect(renameStates(s({ checkout: 'paying' }), { 'checkout.paying': 'checkout.charging', checkout: 'basket' }).value).toEqual({ checkout: 'charging' });
    expect(renameStates(s({ checkout: 'paying' }), { checkout: 'basket' }).value).toEqual({ basket: 'paying' });
    expect(renameStates(s({ p: { a: 'x', b: 'y' } }), { 'p.b.y': 'p.b.z' }).value).toEqual({ p: { a: 'x', b: 'z' } });
    expect(renameStates(s({ step: 'sending' }), { other: 'x' }).value).toEqual({ step: 'sending' });
  });
});

describe('defineActor versions', () => {
  it('should refuse a version that is not an integer ≥ 1, and migrations that do not start from an older version', () => {
    expect(() => defineActor('job', v1Machine, { version: 0 })).toThrow('actor type "job": version must be an integer ≥ 1, got 0');
    expect(() => defineActor('job', v1Machine, { version: 2, migrate: { 2: (s) => s } })).toThrow('actor type "job" v2: migrate[2] must start from an older version (an integer from 1 to 1)');
    expect(() => defineActor('job', v1Machine, { version: 2, migrate: { 1: 'rename' as unknown as Migration } })).toThrow('migrate[1] must be a function');
    expect(defineActor('job', v1Machine).version).toBe(1);
  });
});
