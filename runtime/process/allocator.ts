/**
 * The allocator setting every Mailroom process starts with. Bun allocates its native memory (sockets' buffers,
 * strings handed across to Zig and C++) with mimalloc 3, whose `purge_holes` gives the unused parts of half-used pages
 * back to the OS as often as every 100 ms. A node at a steady trickle of messages refills those holes at about that
 * pace, so it kept giving memory back and faulting it in again (`madvise`, page faults, the TLB flushes they cost):
 * turned off, a saga costs the shop 8 % less CPU at 50 sagas/s and 15 % less at 200/s, where 13 % more get through.
 * Wholly free pages are still given back (mimalloc's `purge_delay`, 100 ms), and the shop holds 50–70 MB more over its
 * six processes; never purging (`MIMALLOC_PURGE_DELAY=-1`) saved no more CPU for twice that memory, and longer purge
 * delays saved nothing.
 * Measured in docs/benchmarks.md, "The allocator's purge (session 10)".
 *
 * mimalloc reads its options once, as the process starts, so they go in the environment of the processes the
 * supervisor (and the bench, and the tests' shop) spawn; a setting already in the environment wins. A node started
 * by hand runs with mimalloc's default unless its environment sets it.
 */

/** mimalloc's options, as environment variables, that Mailroom's processes start with. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_HOLES: '0' };

/**
 * `env` with the allocator's settings added where it does not set them itself.
 *
 * @example
 * withAllocatorDefaults({ PATH: '/usr/bin' }); // { PATH: '/usr/bin', MIMALLOC_PURGE_HOLES: '0' }
 * withAllocatorDefaults({ MIMALLOC_PURGE_HOLES: '1' }).MIMALLOC_PURGE_HOLES; // '1'
 */
export function withAllocatorDefaults<T extends Record<string, string | undefined>>(env: T): T {
  const out: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(ALLOCATOR_ENV)) if (out[name] === undefined || out[name] === '') out[name] = value;
  return out as T;
}
