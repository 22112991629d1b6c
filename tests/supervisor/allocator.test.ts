/**
 * The allocator setting Mailroom's processes start with (runtime/process/allocator.ts) reaches mimalloc in the Bun
 * that runs them: if a Bun release renamed or dropped the option, the environment variable would be ignored without
 * a word, and the CPU it saves with it.
 */
import { describe, expect, it } from 'bun:test';
import { ALLOCATOR_ENV, withAllocatorDefaults } from '../../runtime/process/allocator.ts';
import { mimallocOption, mimallocOptions } from '../helpers/mimalloc.ts';

describe('allocator defaults', () => {
  it('should add each setting an environment lacks and keep the ones it sets', () => {
    expect(withAllocatorDefaults({ PATH: '/usr/bin' })).toEqual({ PATH: '/usr/bin', ...ALLOCATOR_ENV });
    expect(withAllocatorDefaults({ MIMALLOC_PURGE_HOLES: '1' }).MIMALLOC_PURGE_HOLES).toBe('1');
    expect(withAllocatorDefaults({ MIMALLOC_PURGE_HOLES: '' }).MIMALLOC_PURGE_HOLES).toBe('0');
  });

  it("should reach mimalloc: a Bun started with them reports each as its option's value", () => {
    // From an environment without them (one that sets them wins, by design).
    const unset = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in ALLOCATOR_ENV)));
    const options = mimallocOptions(withAllocatorDefaults(unset));
    for (const [name, value] of Object.entries(ALLOCATOR_ENV)) expect({ [name]: options[mimallocOption(name)] }).toEqual({ [name]: value });
  });
});
