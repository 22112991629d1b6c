/**
 * The one shape every policy of the kit shares, so they compose: an operation is a function of an optional
 * `AbortSignal` (which it should pass on to `fetch` and friends), and a policy runs an operation.
 */

/** Work a policy runs. It should stop when `signal` aborts; policies that time it out abort that signal. */
export type Operation<T> = (signal?: AbortSignal) => Promise<T> | T;

/** Something that runs operations with some protection. `R` is what a fallback may answer instead (else `never`). */
export interface Policy<R = never> {
  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T | R>;
}
