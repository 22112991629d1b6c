/**
 * The built panel as the control plane serves it in `bun run start`: files as they are, index.html for any other
 * path (deep links), never a file outside `panel/dist`, and the APIs' unknown paths still JSON 404s.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServiceApp } from '../../runtime/http/index.ts';
import { hasBuiltPanel, panelFiles } from '../../services/control/panel-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-dist-'));
const dist = join(dir, 'dist');
mkdirSync(join(dist, 'assets'), { recursive: true });
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Mailroom</title>');
writeFileSync(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
writeFileSync(join(dir, 'secret.txt'), 'outside');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const app = createServiceApp({ name: 'control', log: () => {} }).use(panelFiles(dist));
const get = async (path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`));
  return { status: res.status, type: res.headers.get('content-type') ?? '', cache: res.headers.get('cache-control'), text: await res.text() };
};

describe('panelFiles', () => {
  it('should serve index.html at / and for deep links, and assets as immutable files', async () => {
    expect(hasBuiltPanel(dist)).toBe(true);
    expect(hasBuiltPanel(dir)).toBe(false);
    for (const path of ['/', '/index.html', '/sagas/ord-1', '/actors?x=1']) {
      const res = await get(path);
      expect(`${path} ${res.status} ${res.text}`).toBe(`${path} 200 <!doctype html><title>Mailroom</title>`);
      expect(res.type).toContain('text/html');
    }
    const asset = await get('/assets/app-1234.js');
    expect([asset.status, asset.text, asset.cache]).toEqual([200, 'console.log(1)', 'public, max-age=31536000, immutable']);
  });

  it('should never serve a file outside the build, and leave API paths to their JSON 404', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await get(path);
      expect(res.text).not.toContain('outside');
    }
    for (const path of ['/control/nothing', '/api/x', '/swagger/nothing']) {
      const res = await get(path);
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      expect(JSON.parse(res.text).code).toBe('NOT_FOUND');
    }
    expect((await get('/health')).status).toBe(200);
  });
});
