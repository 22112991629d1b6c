/**
 * Just enough Markdown reading for the house tests: the table under a heading, the links and the backticked spans
 * of a document (outside fenced code), and the anchors its headings get on GitHub.
 */

/** The document without its fenced code blocks (their lines kept empty, so line counts still match). */
export function withoutCode(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (line.startsWith('```')) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/**
 * The rows of the first table after the heading `heading` (and before the next heading of any level), as cells
 * trimmed of spaces; the header row and the separator row are left out.
 *
 * @example
 * tableUnder('## Ports\n\n| a | b |\n| --- | --- |\n| x | 1 |\n', '## Ports'); // [['x', '1']]
 */
export function tableUnder(markdown: string, heading: string): string[][] {
  const lines = withoutCode(markdown).split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    rows.push(splitRow(line));
  }
  if (rows.length < 2) throw new Error(`no table under "${heading}"`);
  return rows.slice(2);
}

/** A table row's cells; `\|` inside a cell is a literal bar, not a border. */
function splitRow(line: string): string[] {
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);
  return cells.map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** The contents of every `code span` in a cell or a text. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** The target of every inline link `[text](target)` outside fenced code. */
export function linkTargets(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/**
 * The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces turned into hyphens.
 *
 * @example
 * headingAnchors("## The worker's `read` loop\n"); // ['the-workers-read-loop']
 */
export function headingAnchors(markdown: string): string[] {
  return withoutCode(markdown)
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) =>
      line
        .replace(/^#{1,6} /, '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
}
