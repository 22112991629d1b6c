/**
 * A bounded, append-only list: the newest `capacity` items, oldest first. The event tail keeps thousands of events
 * without growing for ever.
 */
export function appendBounded<T>(list: readonly T[], items: readonly T[], capacity: number): T[] {
  if (items.length >= capacity) return items.slice(items.length - capacity);
  const keep = Math.max(0, list.length + items.length - capacity);
  return keep > 0 ? [...list.slice(keep), ...items] : [...list, ...items];
}
