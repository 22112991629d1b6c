/**
 * 3. Kill the inventory process from the panel while orders flow: the supervisor restarts it, the panel shows that
 * it did (a new pid, one more restart, the last exit SIGKILL, the `process.exited` event), and every saga that had
 * started before the kill ends `completed` or `compensated`. The restart often takes less than the panel's 1 s
 * poll, so the test never waits for a "down" it may not be shown: it asserts what a restart leaves behind.
 */
import type { ProcessRow } from '../../panel/src/lib/api/types.ts';
import { allSagas, controlGet, expect, go, openPanel, screenshot, test } from './fixtures.ts';

test('killing inventory: restarted with a new pid, shown so, and every saga started before settles', async ({ page, system }) => {
  test.setTimeout(150_000);
  const startedAt = Date.now();
  await openPanel(page, system, '#/chaos');
  await page.locator('[data-field="loadRate"]').fill('4');
  await page.locator('[data-field="loadS"]').fill('12');
  await page.locator('[data-testid="start-load"]').click();
  // This test's sagas (earlier tests' sagas are theirs to judge): wait until a few are under way.
  const mine = async () => (await allSagas(system)).filter((s) => s.startedAt >= startedAt);
  await expect.poll(async () => (await mine()).length, { timeout: 20_000 }).toBeGreaterThan(8);

  const row = page.locator('[data-testid="processes"] tr[data-process="inventory"]');
  await expect(row).toHaveAttribute('data-status', 'up');
  const inventory = async () => (await controlGet<{ processes: ProcessRow[] }>(system, '/control/topology')).processes.find((p) => p.name === 'inventory')!;
  const was = await inventory();
  expect(was.pid).not.toBeNull();
  await expect(row.locator('[data-cell="pid"]')).toHaveText(String(was.pid));
  await expect(row.locator('[data-cell="restarts"]')).toHaveText(String(was.restarts));
  const before = await mine();

  const killedAt = Date.now();
  await row.locator('[data-action="kill"]').click();
  // The control plane: a new process, one restart more, the old one ended by SIGKILL after the click.
  await expect
    .poll(async () => {
      const now = await inventory();
      return { status: now.status, newPid: now.pid !== null && now.pid !== was.pid, restarts: now.restarts, signal: now.lastExit?.signal, exitedAfterKill: (now.lastExit?.at ?? 0) >= killedAt };
    }, { timeout: 30_000 })
    .toEqual({ status: 'up', newPid: true, restarts: was.restarts + 1, signal: 'SIGKILL', exitedAfterKill: true });
  const restarted = await inventory();

  // The panel: the same facts in the Processes table, whether or not it ever drew the process down.
  await expect(row.locator('[data-cell="pid"]')).toHaveText(String(restarted.pid));
  await expect(row.locator('[data-cell="restarts"]')).toHaveText(String(was.restarts + 1));
  await expect(row.locator('[data-cell="last-exit"]')).toContainText('SIGKILL');
  await expect(row).toHaveAttribute('data-status', 'up');
  await expect(row.locator('[data-cell="up"]')).toHaveText(/\d+(\.\d)? (ms|s)/);
  await screenshot(page, '03-inventory-restarted');

  // The Overview's topology counts the restart; the Events view shows the exit the supervisor reported.
  await go(page, '#/');
  await expect(page.locator('[data-process="inventory"]')).toHaveAttribute('data-status', 'up');
  await expect(page.locator('[data-process="inventory"]')).toContainText(`${was.restarts + 1}↻`);
  await screenshot(page, '03-overview-after-restart');
  await go(page, '#/events');
  await page.locator('.events input[data-search]').fill('process inventory');
  const list = page.locator('[data-testid="event-list"]');
  await expect(list.locator('[data-type="process.exited"]').first()).toContainText(`process inventory exited (pid ${was.pid}) — SIGKILL`);
  await expect(list.locator('[data-type="process.started"]').first()).toContainText(`(pid ${restarted.pid})`);
  await screenshot(page, '03-events-inventory-exited');

  // Every saga that existed at the kill ends completed or compensated.
  await expect
    .poll(
      async () => {
        const unsettled: string[] = [];
        for (const s of before) {
          const now = await controlGet<{ status: string }>(system, `/control/sagas/${s.orderId}`);
          if (now.status !== 'completed' && now.status !== 'compensated') unsettled.push(`${s.orderId}: ${now.status}`);
        }
        return unsettled;
      },
      { timeout: 90_000, intervals: [2_000] },
    )
    .toEqual([]);

  await go(page, '#/sagas');
  await expect(page.locator('[data-testid="saga-list"] [data-saga]').first()).toBeVisible();
  await screenshot(page, '03-sagas-settled');
});
