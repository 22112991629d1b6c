/**
 * The restart delay of a supervised child over a real process: it doubles while the child keeps dying, and starts
 * over from the first delay once the child had stayed healthy for `stableAfterMs` — so a process killed once in a
 * while comes back at once. The chaos run found the reset lost (every restart of a process killed now and then
 * waited the 10 s maximum): the child forgot how long it had been healthy before the backoff asked.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { SupervisedChild } from '../../runtime/supervisor/child-process.ts';
import { waitFor } from './helpers.ts';

const children: SupervisedChild[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop(500)));
});

describe('supervised child restarts', () => {
  it('should restart after the first delay again once the child had been healthy for stableAfterMs', async () => {
    const lines: string[] = [];
    const child = new SupervisedChild({
      name: 'sleeper',
      command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
      env: process.env,
      probe: async () => ({ ok: true, detail: '200' }),
      probeIntervalMs: 10,
      backoff: { initialMs: 100, maxMs: 3_200, stableAfterMs: 300 },
      onLine: () => {},
      log: (line) => lines.push(line),
    });
    children.push(child);
    child.start();
    const killNow = async () => {
      await child.whenHealthy();
      const pid = child.pid!;
      process.kill(pid, 'SIGKILL');
      await waitFor('the restart to be scheduled', () => lines.some((l) => l.includes('restarting in') && !seen.has(l)));
      const line = lines.find((l) => l.includes('restarting in') && !seen.has(l))!;
      seen.add(line);
      return Number(line.match(/restarting in (\d+) ms/)![1]);
    };
    const seen = new Set<string>();

    // Killed at once after each start: the delay doubles.
    expect(await killNow()).toBe(100);
    expect(await killNow()).toBe(200);
    // Healthy for longer than stableAfterMs before dying: back to the first delay.
    await child.whenHealthy();
    await Bun.sleep(500);
    expect(await killNow()).toBe(100);
  }, 15_000);
});
