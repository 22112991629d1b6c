import { describe, expect, it } from 'bun:test';
import { describeExit } from '../../runtime/supervisor/child-process.ts';
import { forEachLine, linePrefixer } from '../../runtime/supervisor/output.ts';
import { renderTable } from '../../runtime/supervisor/index.ts';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

describe('forEachLine', () => {
  it('should split lines across chunks and keep a last unterminated one', async () => {
    const lines: string[] = [];
    await forEachLine(streamOf('one\ntw', 'o\r\nthr', 'ee'), (line) => lines.push(line));
    expect(lines).toEqual(['one', 'two', 'three']);
  });
});

describe('linePrefixer', () => {
  it('should pad the name so lines align, and colour it only when asked', () => {
    expect(linePrefixer('order', 9, 0, false)('listening')).toBe('order     | listening');
    expect(linePrefixer('order', 9, 0, true)('x')).toBe('\x1b[36morder    \x1b[0m | x');
  });
});

describe('describeExit', () => {
  it('should say how a process ended', () => {
    expect(describeExit(1, null)).toBe('exited with code 1');
    expect(describeExit(null, 'SIGKILL')).toBe('killed by SIGKILL');
  });
});

describe('renderTable', () => {
  it('should align names, URLs and pids under a header', () => {
    expect(
      renderTable([
        { name: 'redis', url: 'redis://127.0.0.1:6380', pid: 10 },
        { name: 'inventory', url: 'http://127.0.0.1:3002', pid: undefined },
      ]).split('\n'),
    ).toEqual([
      '  process    url                     pid',
      '  redis      redis://127.0.0.1:6380  10',
      '  inventory  http://127.0.0.1:3002   -',
    ]);
  });
});
