/**
 * 10. Time travel: a person places an order, opens its saga actor, and drags the version scrubber back to the
 * first version: the statechart lights the state the saga's first turn left (not `completed` any more), the label
 * says version 1, and the message that made it is shown — all as the control API's `…/at/1` rebuilds it.
 */
import { controlGet, expect, openPanel, placeOrderFromPanel, screenshot, test } from './fixtures.ts';

test('the scrubber takes a saga back to its first version and the statechart follows', async ({ page, system }) => {
  await openPanel(page, system);
  const { orderId } = await placeOrderFromPanel(page);

  const saga = `order/fulfillment/${orderId}`;
  const history = await controlGet<{ newest: number; oldest: number }>(system, `/control/actors/${saga}/history`);
  const first = await controlGet<{ state: string; causes: { type: string }[] }>(system, `/control/actors/${saga}/at/1`);
  expect(history.oldest).toBe(1);
  expect(history.newest).toBeGreaterThan(1);

  await page.goto(`${system.panel}/#/actors/${saga}`);
  const leaf = page.locator('[data-testid="statechart"] g.leaf');
  await expect(leaf).toHaveAttribute('data-state-id', 'fulfillment.completed', { timeout: 20_000 });
  const label = page.getByTestId('version-label');
  await expect(label).toHaveText(`version ${history.newest} · live`);
  await screenshot(page, '10-saga-live');

  // Drag the scrubber's thumb from the right end (the newest version) to the left end (version 1).
  const scrubber = page.getByTestId('version-scrubber');
  const box = (await scrubber.boundingBox())!;
  await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x - 20, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();

  await expect(label).toHaveText(`version 1 of ${history.newest}`);
  await expect(page.getByTestId('version-state')).toHaveText(first.state);
  await expect(page.getByTestId('version-cause')).toContainText(first.causes.at(-1)!.type);
  // The chart lights the first version's state, drawn at the chart's depth (a saga's retry loop folds into its step).
  await expect(leaf).not.toHaveAttribute('data-state-id', 'fulfillment.completed');
  await expect(leaf).toHaveAttribute('data-state-id', `fulfillment.${first.state.split('.')[0]}`);
  await screenshot(page, '10-saga-version-1');

  // Back to the live actor.
  await page.getByRole('button', { name: 'live' }).click();
  await expect(label).toHaveText(`version ${history.newest} · live`);
  await expect(leaf).toHaveAttribute('data-state-id', 'fulfillment.completed');
});
