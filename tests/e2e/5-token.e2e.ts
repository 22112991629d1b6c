/**
 * 5. The control token: a mutating control call without it (or with a wrong one) is refused with 401, reads stay
 * open, other origins get no CORS grant; the panel opened without the token says so and its actions are refused,
 * and with the token it works. Also: the Overview does not jump when its data arrives.
 */
import { allowConsoleErrors, controlGet, controlSend, expect, go, openPanel, screenshot, test } from './fixtures.ts';

const RULE = { kind: 'latency', target: { service: 'shipping' }, probability: 0.01, latencyMs: { min: 1, max: 2 }, durationMs: 30_000 };

test('a mutating control call without the token is refused', async ({ system }) => {
  for (const token of [null, 'not-the-token-not-the-token-not-the-token']) {
    const res = await controlSend(system, 'POST', '/control/chaos/rules', RULE, token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('UNAUTHORIZED');
  }
  expect((await controlSend(system, 'DELETE', '/control/chaos/rules', undefined, null)).status).toBe(401);
  expect((await controlSend(system, 'POST', '/control/processes/inventory/kill', undefined, null)).status).toBe(401);
  expect(await controlGet<unknown[]>(system, '/control/chaos/rules')).toEqual([]);

  // Another origin gets no CORS grant, preflight included.
  const preflight = await fetch(`${system.control}/control/chaos/rules`, {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
  });
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
});

test('the panel without the token says so and its actions are refused', async ({ page, system }) => {
  allowConsoleErrors(/status of 401/);
  await page.goto(`${system.panel}/#/chaos`);
  await expect(page.locator('[data-testid="token-state"]')).toContainText('no control token');
  await page.locator('[data-pause="shipping"]').click();
  await expect(page.locator('.notice').last()).toContainText(/failed: .*(token|Bearer|unauthori)/i);
  expect(await controlGet<unknown[]>(system, '/control/chaos/rules')).toEqual([]);
  await screenshot(page, '05-panel-without-token');
});

test('the panel with the token injects and removes a rule', async ({ page, system }) => {
  await openPanel(page, system, '#/chaos');
  await expect(page.locator('[data-testid="token-state"]')).toContainText('control token set');
  const form = page.locator('[data-testid="rule-form"]');
  await form.locator('[data-field="kind"]').selectOption('latency');
  await form.locator('[data-field="service"]').selectOption('shipping');
  await form.locator('[data-field="probability"]').fill('1');
  await form.locator('[data-field="durationS"]').fill('30');
  await form.locator('button[type="submit"]').click();
  const row = page.locator('[data-testid="active-rules"] tr[data-rule]');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('shipping messages');
  await expect(row.locator('.countdown')).toContainText(/\d+ s left/);
  await screenshot(page, '05-panel-with-token-rule');
  await row.locator('button', { hasText: 'Stop' }).click();
  await expect(row).toHaveCount(0);
  expect(await controlGet<unknown[]>(system, '/control/chaos/rules')).toEqual([]);
});

test('the Overview keeps its layout when its data arrives', async ({ page, system }) => {
  // Hold the first answers back, so the page is measured before and after its data.
  let hold = true;
  await page.route(/\/control\/(topology|stats|breakers)$/, async (route) => {
    if (hold) await new Promise((r) => setTimeout(r, 1_500));
    await route.continue();
  });
  await page.goto(system.panelUrl);
  const boxes = () => page.locator('.overview > section').evaluateAll((sections) => sections.map((s) => s.getBoundingClientRect()).map((r) => [r.x, r.y, r.width, r.height].map(Math.round)));
  await expect(page.locator('.overview > section')).toHaveCount(5);
  const before = await boxes();
  hold = false;
  await expect(page.locator('[data-breaker]').first()).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('[data-process="order"]')).toBeVisible();
  await page.waitForTimeout(2_000);
  expect(await boxes()).toEqual(before);
  await screenshot(page, '05-overview-settled');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, '05-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await go(page, '#/events');
  await expect(page.locator('[data-testid="event-list"] [data-type]').first()).toBeVisible();
  await screenshot(page, '05-events');
});
