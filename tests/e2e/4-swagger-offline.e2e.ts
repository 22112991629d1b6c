/**
 * 4. The gateway's Swagger UI renders its operations with no network: every request the page makes goes to the
 * gateway itself (anything else is blocked and counted).
 */
import { expect, offline, screenshot, test } from './fixtures.ts';

test("the gateway's Swagger UI renders its operations offline", async ({ page, system }) => {
  const outside = await offline(page);
  await page.goto(`${system.gateway}/swagger`);
  await expect(page.locator('.opblock').first()).toBeVisible({ timeout: 20_000 });
  expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
  await expect(page.locator('.opblock-summary-path', { hasText: '/api/orders' }).first()).toBeVisible();
  await expect(page.locator('.opblock-summary-path', { hasText: '/api/catalogue' }).first()).toBeVisible();
  await screenshot(page, '04-gateway-swagger-offline');
  expect(outside).toEqual([]);
});
