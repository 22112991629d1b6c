/**
 * Child output, one line at a time, prefixed with the child's name (padded so the lines align, coloured when the
 * supervisor writes to a terminal), so the interleaved logs of a dozen processes stay readable.
 */

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92] as const;

/**
 * Whether to colour: a terminal, and no `NO_COLOR`.
 *
 * @example
 * linePrefixer('order', 9, 0, useColour());
 */
export function useColour(stream: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

/**
 * A function that prefixes a line with `name`, padded to `width`, in the `index`-th colour when `colour` is set.
 *
 * @example
 * linePrefixer('order', 9, 0, false)('listening'); // 'order     | listening'
 */
export function linePrefixer(name: string, width: number, index: number, colour: boolean): (line: string) => string {
  const padded = name.padEnd(width);
  const tag = colour ? `\x1b[${COLOURS[index % COLOURS.length]}m${padded}\x1b[0m` : padded;
  return (line) => `${tag} | ${line}`;
}

/**
 * Reads a byte stream to its end, calling `onLine` for each complete line (and for a last unterminated one).
 *
 * @example
 * await forEachLine(proc.stdout, (line) => console.log(prefix(line)));
 */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    }
  } catch {
    // The pipe broke because the child was killed: what was read is all there is.
  }
  pending += decoder.decode();
  if (pending !== '') onLine(pending);
}
