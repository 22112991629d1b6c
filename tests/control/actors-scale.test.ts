/**
 * Paging through 100,000 actors: the actor list reads the per-partition index with HSCAN, so every page is a few
 * round trips whatever the total, the pages together hold every actor exactly once, and a search that matches
 * almost nothing answers promptly (with a cursor to go on) instead of scanning everything in one request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';
import { controlApp } from './helpers.ts';

const prefix = testPrefix('control-scale');
const TOTAL = 100_000;
const PARTITIONS = 8;
let control: Awaited<ReturnType<typeof controlApp>>;

beforeAll(async () => {
  // The index as nodes write it: `type/id` → state, one hash per partition (which partition does not matter here).
  const redis = createClient({ url: SHARED_REDIS });
  await redis.connect();
  await redis.hSet(`${prefix}:service:big`, 'partitions', String(PARTITIONS));
  await redis.sAdd(`${prefix}:services`, 'big');
  for (let p = 0; p < PARTITIONS; p++) {
    const fields: Record<string, string> = {};
    for (let i = p; i < TOTAL; i += PARTITIONS) fields[`item/it-${String(i).padStart(6, '0')}`] = i % 3 === 0 ? 'active' : 'idle';
    await redis.hSet(`${prefix}:{big:${p}}:index`, fields);
  }
  await redis.quit();
  control = await controlApp({ prefix, follow: false });
}, 30_000);

afterAll(async () => {
  await control?.close();
  await cleanupPrefix(prefix);
});

describe('GET /control/actors over 100,000 actors', () => {
  it('should hand out every actor exactly once in pages of 500, each page quick', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    let slowest = 0;
    const started = performance.now();
    do {
      const t0 = performance.now();
      const path: string = `/control/actors?service=big&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await control.json('GET', path);
      slowest = Math.max(slowest, performance.now() - t0);
      expect(status).toBe(200);
      for (const item of body.items) seen.add(item.address);
      cursor = body.cursor;
      pages++;
    } while (cursor !== null && pages < 1_000);
    expect(seen.size).toBe(TOTAL);
    expect(pages).toBeLessThanOrEqual(TOTAL / 500 + PARTITIONS);
    console.log(`100,000 actors in ${pages} pages: ${Math.round(performance.now() - started)} ms, slowest page ${Math.round(slowest)} ms`);
    expect(slowest).toBeLessThan(1_000);
  }, 30_000);

  it('should find a few actors among them by id prefix, with a bounded amount of scanning per request', async () => {
    const found: string[] = [];
    let cursor: string | null = null;
    let requests = 0;
    do {
      const t0 = performance.now();
      const path: string = `/control/actors?service=big&q=it-04200&limit=50${cursor ? `&cursor=${cursor}` : ''}`;
      const { body } = await control.json('GET', path);
      expect(performance.now() - t0).toBeLessThan(2_000);
      found.push(...body.items.map((i: any) => i.address));
      cursor = body.cursor;
      requests++;
    } while (cursor !== null && requests < 50);
    expect(found.sort()).toEqual([...Array(10).keys()].map((i) => `big/item/it-04200${i}`));
  }, 30_000);
});
