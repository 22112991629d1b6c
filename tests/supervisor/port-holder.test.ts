import { describe, expect, it } from 'bun:test';
import { findPortHolder, holderFromProc, holderFromSs } from '../../runtime/supervisor/port-holder.ts';
import { freePort } from './helpers.ts';

describe('port holder', () => {
  it('should find the listening process through /proc and through ss', async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    try {
      const port = server.port!;
      const fromProc = holderFromProc(port);
      expect(fromProc?.pid).toBe(process.pid);
      expect(fromProc?.command).toContain('bun');
      if (Bun.which('ss')) expect(holderFromSs(port)?.pid).toBe(process.pid);
      expect(findPortHolder(port)?.pid).toBe(process.pid);
    } finally {
      await server.stop(true);
    }
  });

  it('should find nobody on a free port', async () => {
    const port = await freePort();
    expect(holderFromProc(port)).toBeUndefined();
    expect(findPortHolder(port)).toBeUndefined();
  });
});
