/**
 * 9. An order's trace as a waterfall: a person places an order, opens its saga, clicks through to its trace, and
 * sees the real spans the processes exported to the control plane — the gateway's request, the order service's
 * turns and saga steps, inventory's, payment's and shipping's turns — each with its duration, indented under its
 * parent. And the Overview's charts say which Prometheus metric they plot.
 */
import { expect, openPanel, placeOrderFromPanel, screenshot, test } from './fixtures.ts';

const MUST = ['gateway', 'order', 'inventory', 'payment', 'shipping'];

test('an order placed from the panel opens its trace as a waterfall across the services', async ({ page, system }) => {
  await openPanel(page, system);
  await expect(page.locator('[data-testid="chart-metric"][data-chart="throughput"] code')).toHaveText(['mailroom_sagas_total', 'mailroom_turns_total']);
  await expect(page.locator('[data-testid="chart-metric"][data-chart="latency"] code').first()).toHaveText('mailroom_saga_duration_seconds');

  const { row, orderId } = await placeOrderFromPanel(page);

  // The saga's timeline, then its trace.
  await row.locator('a').first().click();
  await expect(page).toHaveURL(new RegExp(`#/sagas/${orderId}$`));
  await expect(page.locator('[data-testid="saga-timeline"]')).toBeVisible();
  await page.locator('[data-testid="saga-trace-link"]').click();
  await expect(page).toHaveURL(new RegExp(`#/sagas/${orderId}/trace$`));

  const waterfall = page.locator('[data-testid="trace-waterfall"]');
  // The exporters send in batches: the waterfall fills in until every service's spans are there.
  for (const service of MUST) await expect(waterfall.locator(`[data-service="${service}"]`).first()).toBeVisible({ timeout: 20_000 });
  // One tree: once every parent has arrived, the gateway's request is the only root.
  await expect(waterfall.locator('[data-span][data-depth="0"]')).toHaveCount(1, { timeout: 20_000 });
  const rows = await waterfall.locator('[data-span]').evaluateAll((els) =>
    els.map((el) => ({ service: el.getAttribute('data-service')!, duration: Number(el.getAttribute('data-duration-ms')), depth: Number(el.getAttribute('data-depth')), name: el.querySelector('.name')?.textContent ?? '' })),
  );
  for (const service of MUST) {
    const own = rows.filter((r) => r.service === service);
    expect(own.length, `${service} has spans`).toBeGreaterThan(0);
    for (const r of own) expect(Number.isFinite(r.duration) && r.duration >= 0, `${service}: ${r.name} has a duration`).toBe(true);
    expect(own.some((r) => r.duration > 0), `${service}: a span that took time`).toBe(true);
  }
  expect(rows[0]).toMatchObject({ service: 'gateway', depth: 0, name: 'POST /api/orders' });
  expect(rows.filter((r) => r.depth === 0).map((r) => r.name)).toEqual(['POST /api/orders']);
  expect(rows.some((r) => r.service === 'order' && r.name.startsWith('saga fulfillment step '))).toBe(true);
  // Every row shows its duration as text, too.
  await expect(waterfall.locator('[data-span] .dur').first()).toHaveText(/\d/);
  await screenshot(page, '09-order-trace');

  // And back to the timeline.
  await page.locator('[data-testid="saga-timeline-link"]').click();
  await expect(page.locator('[data-testid="saga-timeline"]')).toBeVisible();
});
