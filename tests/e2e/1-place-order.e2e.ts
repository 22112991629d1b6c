/**
 * 1. A person places an order from the panel: it is accepted, its saga runs every step to `completed`, and the
 * order shows confirmed — in the Orders view and in the saga's timeline — with the one confirmation notice the
 * notifications service recorded from the order's events; the topology draws that subscription.
 */
import { controlGet, expect, openPanel, placeOrderFromPanel, screenshot, test } from './fixtures.ts';

test('an order placed from the panel completes its saga and shows confirmed', async ({ page, system }) => {
  await openPanel(page, system);
  // The token went from the address bar into the tab's storage.
  expect(page.url()).not.toContain('token=');
  expect(await page.evaluate(() => sessionStorage.getItem('mailroom.control-token'))).toBe(system.token);
  await screenshot(page, '01-overview');
  // The topology draws the notifications service's subscription to the order log.
  await expect(page.locator('svg.topology g[data-process="notifications"]')).toBeVisible();
  await expect(page.locator('svg.topology g.link.events')).toHaveCount(1);

  const { row, orderId } = await placeOrderFromPanel(page);
  await expect(row.locator('[data-testid="order-state"] [data-state]')).toHaveAttribute('data-state', 'confirmed');
  await expect(row.locator('[data-testid="saga-status"] [data-state]')).toHaveAttribute('data-state', 'completed');
  // The customer's notice, from the notifications outbox: one confirmation.
  await expect(row.locator('[data-testid="order-notice"] [data-state]')).toHaveAttribute('data-state', 'confirmation', { timeout: 20_000 });
  const notices = await controlGet<{ items: { kind: string; orderId: string }[] }>(system, `/control/notifications?orderId=${orderId}`);
  expect(notices.items.map((n) => [n.orderId, n.kind])).toEqual([[orderId, 'confirmation']]);
  await screenshot(page, '01-order-confirmed');

  // The saga's timeline: every step succeeded, in order, the stock was committed, and the saga completed.
  await row.locator('a').first().click();
  await expect(page).toHaveURL(new RegExp(`#/sagas/${orderId}$`));
  const timeline = page.locator('[data-testid="saga-timeline"]');
  await expect(timeline.locator('[data-testid="saga-end"]')).toContainText('completed');
  const steps = await timeline.locator('[data-step]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-outcome')}`));
  expect(steps).toEqual(['createOrder:succeeded', 'reserveInventory:succeeded', 'chargePayment:succeeded', 'scheduleShipment:succeeded', 'confirmOrder:succeeded', 'commitInventory:succeeded']);
  await expect(page.locator('[data-testid="saga-status"] [data-state]')).toHaveAttribute('data-state', 'completed');
  await screenshot(page, '01-saga-timeline');

  // The control plane agrees.
  const saga = await controlGet<{ status: string }>(system, `/control/sagas/${orderId}`);
  expect(saga.status).toBe('completed');

  // The saga's statechart, drawn from its machine, rests in `completed`.
  await page.goto(`${system.panel}/#/actors/order/fulfillment/${orderId}`);
  await expect(page.locator('[data-testid="statechart"] g[data-active="true"]').first()).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('[data-testid="statechart"] g.leaf')).toHaveAttribute('data-state-id', 'fulfillment.completed');
  // The record was written by the saga machine's first version.
  await expect(page.getByTestId('actor-machine-version')).toHaveText('machine v1');
  await screenshot(page, '01-saga-statechart');
});
