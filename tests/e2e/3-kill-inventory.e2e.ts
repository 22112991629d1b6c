/**
 * 3. Kill the inventory process from the panel while orders flow: the panel shows it down, the supervisor restarts
 * it, and every saga that had started before the kill ends `completed` or `compensated`.
 */
import { allSagas, controlGet, expect, go, openPanel, screenshot, test } from './fixtures.ts';

test('killing inventory: shown down, restarted, and every saga started before settles', async ({ page, system }) => {
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
  const restartsBefore = Number(await row.locator('td').nth(3).textContent());
  const before = await mine();

  await row.locator('[data-action="kill"]').click();
  // Shown down (or on its way back) — the supervisor restarts it within a second or two.
  await expect(row).not.toHaveAttribute('data-status', 'up', { timeout: 10_000 });
  await screenshot(page, '03-inventory-down');
  await expect(row).toHaveAttribute('data-status', 'up', { timeout: 30_000 });
  expect(Number(await row.locator('td').nth(3).textContent())).toBe(restartsBefore + 1);
  await expect(row).toContainText(/\d+ (ms|s)/);

  await go(page, '#/');
  await expect(page.locator('[data-process="inventory"]')).toHaveAttribute('data-status', 'up');
  await screenshot(page, '03-overview-after-restart');

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
