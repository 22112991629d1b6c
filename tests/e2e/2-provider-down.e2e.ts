/**
 * 2. "Payment provider down" under load, from the panel: the payment breaker opens in the Breakers view with its
 * reason, sagas compensate (the refund and the release show in their timelines, with the fault that caused them);
 * once the scenario is stopped the breaker goes half-open, then closed.
 */
import { expect, go, openPanel, screenshot, test } from './fixtures.ts';

test('provider down: the breaker opens with its reason, sagas compensate, and the breaker heals', async ({ page, system }) => {
  test.setTimeout(150_000);
  await openPanel(page, system, '#/chaos');

  await page.locator('[data-field="loadRate"]').fill('6');
  await page.locator('[data-field="loadS"]').fill('90');
  await page.locator('[data-testid="start-load"]').click();
  await expect(page.locator('[data-testid="load-status"]')).toContainText('accepted');
  await page.locator('[data-scenario="payment-provider-down"]').click();
  await expect(page.locator('[data-testid="active-rules"] tr[data-rule]')).toHaveCount(1);
  await expect(page.locator('[data-testid="active-rules"] .countdown')).toContainText('s left');
  await screenshot(page, '02-chaos-scenario-running');

  // The breaker opens, and says why.
  await go(page, '#/breakers/payment/provider');
  const card = page.locator('[data-breaker-card="payment/provider"]');
  await expect(card).toHaveAttribute('data-state', 'open', { timeout: 40_000 });
  await expect(card.locator('[data-testid="breaker-reason"]')).toContainText(/opened: (\d+ of \d+ calls failed|probe failed)/);
  await expect(card.locator('[data-testid="statechart"] g.leaf')).toHaveAttribute('data-state-id', 'circuitBreaker.open');
  await screenshot(page, '02-breaker-open');

  // The Overview's strip shows it too.
  await go(page, '#/');
  await expect(page.locator('[data-breaker="payment/provider"]')).toHaveAttribute('data-state', 'open');
  await screenshot(page, '02-overview-breaker-open');

  // Sagas are compensating: their refunds wait for the provider.
  await go(page, '#/sagas');
  await page.locator('[data-testid="saga-filter"]').selectOption('compensating');
  await expect(page.locator('[data-testid="saga-list"] [data-status="compensating"]').first()).toBeVisible({ timeout: 30_000 });
  await screenshot(page, '02-sagas-compensating');

  // Stop the scenario: the breaker probes (half-open) and closes, and the compensations go through.
  await go(page, '#/chaos');
  await page.locator('[data-testid="clear-rules"]').click();
  await expect(page.locator('[data-testid="active-rules"] tr[data-rule]')).toHaveCount(0);
  await go(page, '#/breakers/payment/provider');
  await expect(card).toHaveAttribute('data-state', 'closed', { timeout: 60_000 });
  await expect(card).toContainText('open → half-open');
  await expect(card).toContainText('half-open → closed');
  await screenshot(page, '02-breaker-closed');

  // Compensated sagas: the release (and the refund or void of the charge) in the timeline, the cause linked.
  await go(page, '#/sagas');
  await page.locator('[data-testid="saga-filter"]').selectOption('compensated');
  const compensated = page.locator('[data-testid="saga-list"] [data-status="compensated"]').first();
  await expect(compensated).toBeVisible({ timeout: 40_000 });
  await compensated.click();
  const timeline = page.locator('[data-testid="saga-timeline"]');
  await expect(timeline.locator('[data-testid="saga-end"]')).toContainText('compensated');
  await expect(timeline.locator('[data-step="chargePayment"]')).toHaveAttribute('data-outcome', /failed|timedOut/);
  const release = timeline.locator('[data-step="undoReserveInventory"]');
  await expect(release).toHaveAttribute('data-outcome', 'compensated');
  await expect(release).toContainText('inventory.released');
  const refund = timeline.locator('[data-step="undoChargePayment"]');
  if ((await refund.count()) > 0) await expect(refund).toContainText('payment.refunded');
  await expect(timeline.locator('[data-step="chargePayment"] [data-testid="cause"]')).toBeVisible();
  await screenshot(page, '02-saga-compensated');

  await go(page, '#/chaos');
  await page.locator('[data-testid="stop-load"]').click();
  await expect(page.locator('[data-testid="load-status"]')).toContainText('stopped');
});
