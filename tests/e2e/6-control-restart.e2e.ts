/**
 * The panel survives the control plane dying: it says "reconnecting", then comes back live by itself and resumes
 * the event stream from the last id it had (nothing it had is lost, and new events keep arriving — among them the
 * control plane's own exit, written while it was down). That it was restarted is checked by what a restart leaves
 * (a new pid, one more restart), never by a "down" the supervisor's sub-second restart may not let anyone see.
 */
import type { ProcessRow } from '../../panel/src/lib/api/types.ts';
import { allowConsoleErrors, controlGet, controlSend, expect, go, openPanel, screenshot, test } from './fixtures.ts';

test('the panel reconnects by itself when the control plane restarts', async ({ page, system }) => {
  // While the control plane is away, the dev server's proxy answers its requests with errors.
  allowConsoleErrors(/Failed to load resource|EventSource|ERR_|net::/);
  await openPanel(page, system, '#/events');
  const received = async () => Number((await page.locator('.events .toolbar .num').textContent())?.match(/(\d+) received/)?.[1] ?? 0);
  const before = await received();
  const controlProcess = async () => (await controlGet<{ processes: ProcessRow[] }>(system, '/control/topology')).processes.find((p) => p.name === 'control')!;
  const was = await controlProcess();
  // Every status the header shows, however briefly.
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="live-status"]')!;
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = [el.getAttribute('data-status')!]);
    new MutationObserver(() => seen.push(el.getAttribute('data-status')!)).observe(el, { attributes: true, attributeFilter: ['data-status'] });
  });

  // The control plane may die before it answers its own kill.
  const res = await controlSend(system, 'POST', '/control/processes/control/kill').catch(() => null);
  if (res) expect(res.status).toBeLessThan(300);
  await expect.poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen), { timeout: 15_000 }).toContain('reconnecting');
  await expect(page.locator('[data-testid="live-status"]')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });

  // It was restarted: a new process, one restart more, the old one ended by SIGKILL.
  await expect
    .poll(async () => {
      const now = await controlProcess().catch(() => null);
      return { status: now?.status, newPid: now?.pid != null && now.pid !== was.pid, restarts: now?.restarts, signal: now?.lastExit?.signal };
    }, { timeout: 30_000 })
    .toEqual({ status: 'up', newPid: true, restarts: was.restarts + 1, signal: 'SIGKILL' });

  // New events arrive on the resumed stream (the restart itself is one of them), and nothing kept was dropped.
  await expect.poll(received, { timeout: 20_000 }).toBeGreaterThan(before);
  await go(page, '#/');
  await expect(page.locator('[data-process="control"]')).toHaveAttribute('data-status', 'up', { timeout: 20_000 });
  await expect(page.locator('[data-process="control"]')).toContainText(`${was.restarts + 1}↻`);
  await screenshot(page, '06-live-again');
  // The exit was written to the stream while the control plane was down: only a stream resumed from the last id
  // the panel had brings it.
  await go(page, '#/events');
  await page.locator('.events input[data-search]').fill('process control');
  await expect(page.locator('[data-testid="event-list"] [data-type="process.exited"]').first()).toContainText(`process control exited (pid ${was.pid}) — SIGKILL`);
  await screenshot(page, '06-events-control-restart');
});
