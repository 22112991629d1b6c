/**
 * 7. The panel stays smooth at 1,000 events/s (issue 7). The test writes realistic inspection events straight into
 * the system's inspect stream — 100 every 100 ms for 8 s, one XADD per source per tick, the way each process's
 * InspectionWriter flushes — while the panel shows the Events view, then the Overview. In the page, a
 * PerformanceObserver records long tasks and a requestAnimationFrame loop the frame intervals. It checks that the
 * page stays responsive, that the Events view shows the flood (the newest event within 2 s, every event counted,
 * ~1,000 events/s in the header), that what the panel keeps is bounded (events kept, DOM nodes, JS heap), and —
 * through the fixtures — that no console error happened.
 */
import { createClient } from 'redis';
import { keyPrefixOf } from '../../runtime/config.ts';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { globalKeys } from '../../runtime/keys.ts';
import type { InspectionEvent } from '../../runtime/index.ts';
import { expect, go, openPanel, screenshot, test } from './fixtures.ts';

const TICK_MS = 100;
const PER_TICK = 100; // 1,000 events/s
const FLOOD_MS = 8_000;
const SOURCES = ['order', 'inventory', 'payment', 'shipping', 'gateway'] as const;
const STEPS = ['reserveInventory', 'chargePayment', 'bookShipment'] as const;

/** The n-th event of the flood: actor transitions, saga steps, breaker transitions, chaos injections, retries, timers. */
function floodEvent(n: number, source: string, at: number): InspectionEvent {
  const id = `flood-${String(Math.floor(n / 10)).padStart(6, '0')}`;
  switch (n % 10) {
    case 0:
    case 1:
    case 2:
      return { type: 'actor.transition', at, source, actor: `${source}/Order/${id}`, event: 'PAYMENT_CHARGED', from: 'charging', to: 'shipping', handled: true, messageId: `${n}-0` };
    case 3:
    case 4:
    case 5:
      return { type: 'saga.step', at, source, saga: 'placeOrder', sagaId: id, step: STEPS[n % 3]!, phase: n % 2 ? 'succeeded' : 'started', durationMs: n % 2 ? 12 + (n % 40) : undefined };
    case 6:
      return { type: 'breaker.transition', at, source, breaker: 'flood-provider', from: 'closed', to: 'open', reason: '6 of 10 calls failed', failureRate: 60, calls: 10, waitMs: 5_000 };
    case 7:
      return { type: 'retry.attempt', at, source, policy: `${source}.provider`, attempt: 2, maxAttempts: 3, delayMs: 200, error: 'HTTP 503' };
    case 8:
      return { type: 'timer.armed', at, source, actor: `${source}/Order/${id}`, timerId: `${id}:timeout`, dueAt: at + 30_000 };
    default:
      return { type: 'chaos.injected', at, source, rule: 'flood', kind: 'error', target: `${source} → provider`, detail: `flood #${n}` };
  }
}

type Measures = { longTasks: number[]; frames: number[]; marks: Record<string, number>; stop: boolean };
type Sample = { dom: number; heap: number | null; at: number };

test('the panel stays smooth at 1,000 events/s', async ({ page, system }) => {
  test.setTimeout(90_000);
  const redis = createClient({ url: `redis://127.0.0.1:${DEFAULT_PORTS.redis + system.offset}` });
  await redis.connect();
  const stream = globalKeys(keyPrefixOf({})).inspect;
  try {
    await openPanel(page, system, '#/events');
    await expect(page.locator('[data-testid="event-list"]')).toBeVisible();
    const received = async () => Number((await page.locator('.events .toolbar .num').textContent())?.match(/(\d+) received/)?.[1] ?? NaN);
    const kept = async () => Number((await page.locator('.events .toolbar .num').textContent())?.match(/of (\d+) kept/)?.[1] ?? NaN);
    const sample = () =>
      page.evaluate((): Sample => ({
        dom: document.getElementsByTagName('*').length,
        heap: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null,
        at: performance.now(),
      }));
    const before = await received();
    const start = await sample();

    // In the page: long tasks and frame intervals from now on (a browser without long tasks would pass vacuously).
    expect(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('longtask'))).toBe(true);
    await page.evaluate(() => {
      const m: Measures = ((window as unknown as { flood: Measures }).flood = { longTasks: [], frames: [], marks: {}, stop: false });
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) m.longTasks.push(entry.duration);
      }).observe({ type: 'longtask' });
      let last = performance.now();
      const frame = (now: number) => {
        m.frames.push(now - last);
        last = now;
        if (!m.stop) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    const mark = (name: string) => page.evaluate((n) => ((window as unknown as { flood: Measures }).flood.marks[n] = (window as unknown as { flood: Measures }).flood.frames.length), name);

    // The flood: every 100 ms one XADD per source (100 events in all), on a fixed schedule so it does not drift.
    let written = 0;
    let lastMarker = -1;
    let lastMarkerAt = 0;
    const t0 = Date.now();
    const flood = (async () => {
      for (let tick = 0; tick < FLOOD_MS / TICK_MS; tick++) {
        const wait = t0 + tick * TICK_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const at = Date.now();
        const perSource = PER_TICK / SOURCES.length;
        await Promise.all(
          SOURCES.map((source, s) => {
            const events = Array.from({ length: perSource }, (_, i) => floodEvent(written + s * perSource + i, source, at));
            return redis.xAdd(stream, '*', { b: JSON.stringify(events) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 100_000 } });
          }),
        );
        written += PER_TICK;
        lastMarker = written - 1; // the tick's last event is a chaos.injected (n % 10 === 9) saying "flood #n"
        lastMarkerAt = Date.now();
      }
    })();

    // Events view: 3 s into the flood, the newest event written — or one written after it, since at ≤ 10 repaints a
    // second a given row may be pushed below the fold before a frame shows it on top — shows within 2 s.
    await page.waitForTimeout(3_000);
    const marker = lastMarker;
    const markerAt = lastMarkerAt;
    const newestShown = async () => {
      const text = (await page.locator('[data-testid="event-list"]').textContent()) ?? '';
      return Math.max(-1, ...[...text.matchAll(/flood #(\d+)/g)].map((m) => Number(m[1])));
    };
    await expect.poll(newestShown, { timeout: 2_000, intervals: [25, 50, 100] }).toBeGreaterThanOrEqual(marker);
    const markerLatencyMs = Date.now() - markerAt; // from its XADD to a row as new or newer on screen (give or take a poll)
    await page.waitForTimeout(1_000);
    const eventsView = await sample();
    await screenshot(page, '07-event-flood-events');
    await mark('overview');

    // The Overview for the rest of the flood.
    await go(page, '#/');
    await expect(page.locator('[data-testid="breaker-strip"]')).toBeVisible();
    await page.waitForTimeout(Math.max(0, t0 + FLOOD_MS - 600 - Date.now()));
    // Over the last 5 s the header's rate is the flood's (plus what the system itself says, a few events/s).
    const rateText = (await page.locator('[data-testid="live-status"] .num').textContent()) ?? '';
    const rate = Number(rateText.match(/([\d.]+) events\/s/)?.[1] ?? NaN);
    await screenshot(page, '07-event-flood');
    await flood;
    const floodMs = Date.now() - t0;
    const overview = await sample();

    // Back on the Events view: every event arrived, and the list kept only its last 4,000.
    await go(page, '#/events');
    await expect.poll(received, { timeout: 5_000 }).toBeGreaterThanOrEqual(before + written);
    const after = await received();
    const keptNow = await kept();
    const m = await page.evaluate(() => {
      const f = (window as unknown as { flood: Measures }).flood;
      f.stop = true;
      return f;
    });
    const end = await sample();

    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
    const floodFrames = m.frames.slice(1);
    const eventsFrames = floodFrames.slice(0, m.marks.overview);
    const overviewFrames = floodFrames.slice(m.marks.overview);
    const fps = (floodFrames.length / (end.at - start.at)) * 1000;
    const report = {
      written,
      floodMs,
      writtenPerSec: Math.round((written / floodMs) * 1000),
      markerLatencyMs,
      shownRate: rateText,
      received: after - before,
      kept: keptNow,
      longTasks: { count: m.longTasks.length, max: Math.round(Math.max(0, ...m.longTasks)), total: Math.round(m.longTasks.reduce((s, d) => s + d, 0)) },
      frames: {
        count: floodFrames.length,
        fps: Math.round(fps),
        median: Math.round(pct(floodFrames, 50)),
        p95: Math.round(pct(floodFrames, 95)),
        max: Math.round(Math.max(...floodFrames)),
        eventsMedian: Math.round(pct(eventsFrames, 50)),
        overviewMedian: Math.round(pct(overviewFrames, 50)),
      },
      dom: { start: start.dom, eventsView: eventsView.dom, overview: overview.dom, end: end.dom },
      heapMiB: [start, eventsView, overview, end].map((s) => (s.heap === null ? null : Math.round((s.heap / 2 ** 20) * 10) / 10)),
    };
    console.log(`event flood: ${JSON.stringify(report)}`);
    test.info().annotations.push({ type: 'event flood', description: JSON.stringify(report) });

    // The flood was a flood: ~1,000 events/s for ~8 s.
    expect(written).toBe((FLOOD_MS / TICK_MS) * PER_TICK);
    expect(floodMs).toBeLessThan(FLOOD_MS + 1_500);
    // The panel shows it: every event counted, and the header's 5-second rate near 1,000/s.
    expect(after - before).toBeGreaterThanOrEqual(written);
    expect(rate).toBeGreaterThan(700);
    expect(rate).toBeLessThan(1_500);
    // Responsive: no long task over 250 ms (a frame skipped a quarter of a second), the main thread busy with long
    // tasks less than a quarter of the time, the median frame under 50 ms and at least 20 frames a second overall
    // (60 is the goal on an idle machine; this one is a loaded 2-core box running the whole system besides).
    expect(report.longTasks.max).toBeLessThan(250);
    expect(report.longTasks.total).toBeLessThan(floodMs / 4);
    expect(report.frames.median).toBeLessThan(50);
    expect(report.frames.eventsMedian).toBeLessThan(50);
    expect(report.frames.overviewMedian).toBeLessThan(50);
    expect(fps).toBeGreaterThan(20);
    // Bounded: the list keeps 4,000 events; the DOM is the virtualised list's rows, not one node per event; the
    // heap holds what is kept, not the 8,000 events that came.
    expect(keptNow).toBeLessThanOrEqual(4_000);
    expect(end.dom).toBeLessThan(start.dom + 300);
    expect(eventsView.dom).toBeLessThan(start.dom + 300);
    if (start.heap !== null && end.heap !== null) expect(end.heap - start.heap).toBeLessThan(40 * 2 ** 20);
  } finally {
    await redis.quit().catch(() => {});
  }
});
