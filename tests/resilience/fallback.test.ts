import { describe, expect, it } from 'bun:test';
import { createFallback } from '../../runtime/resilience/index.ts';
import { rejectionOf } from '../helpers/rejection.ts';

describe('Fallback', () => {
  it('should answer with the fallback when the operation fails, and pass successes through', async () => {
    const fallback = createFallback({ fallback: (error) => `fallback for ${(error as Error).message}` });
    expect(await fallback.execute(() => Promise.reject(new Error('down')))).toBe('fallback for down');
    expect(await fallback.execute(async () => 'fresh')).toBe('fresh');
  });

  it('should pass on errors it does not handle', async () => {
    const fallback = createFallback({ fallback: () => 'cached', handles: (error) => !(error instanceof TypeError) });
    expect(await rejectionOf(fallback.execute(() => Promise.reject(new TypeError('bug'))))).toBeInstanceOf(TypeError);
  });

  it('should not answer a caller that has already aborted', async () => {
    const fallback = createFallback({ fallback: () => 'cached' });
    const controller = new AbortController();
    controller.abort();
    expect((await rejectionOf(fallback.execute(() => Promise.reject(new Error('aborted')), controller.signal))).message).toContain('aborted');
  });
});
