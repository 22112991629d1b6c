/**
 * The one table the supervisor prints once everything is healthy: a row per process with its URL and pid.
 */

export type TableRow = { name: string; url: string; pid: number | undefined };

/**
 * Plain-text columns, left-aligned, with a header.
 *
 * @example
 * renderTable([{ name: 'order', url: 'http://127.0.0.1:3001/swagger', pid: 4242 }]);
 * // '  process  url                            pid\n  order    http://127.0.0.1:3001/swagger  4242'
 */
export function renderTable(rows: TableRow[]): string {
  const header = ['process', 'url', 'pid'];
  const cells = rows.map((row) => [row.name, row.url, row.pid === undefined ? '-' : String(row.pid)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (cols: string[]) =>
    `  ${cols
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}`;
  return [line(header), ...cells.map(line)].join('\n');
}
