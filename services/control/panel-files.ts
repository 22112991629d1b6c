/**
 * The built panel (`panel/dist`), served by the control plane in `bun run start`: files as they are, and
 * `index.html` for any other path outside the APIs (the panel routes by hash, but a deep link must still land).
 */
import { existsSync, statSync } from 'node:fs';
import { join, normalize, resolve, sep } from 'node:path';
import { Elysia } from 'elysia';
import { HttpError } from '../../runtime/http/index.ts';

const API_PREFIXES = ['/control', '/swagger', '/health', '/api'];

/** Whether `dir` holds a built panel. */
export function hasBuiltPanel(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/**
 * @example
 * if (hasBuiltPanel(dist)) app.use(panelFiles(dist));
 */
export function panelFiles(dir: string) {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  return new Elysia({ name: 'control:panel-files' }).get('/*', ({ request, set }) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      throw new HttpError(400, 'MALFORMED_PATH', 'the path has a malformed %-escape');
    }
    if (API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) {
      throw new HttpError(404, 'NOT_FOUND', `no route for GET ${path}`);
    }
    const file = resolve(root, `.${normalize(path)}`);
    const inside = file === root || file.startsWith(root + sep);
    if (inside && file !== root && existsSync(file) && statSync(file).isFile()) {
      // Vite names built assets by content hash: they never change.
      if (path.startsWith('/assets/')) set.headers['cache-control'] = 'public, max-age=31536000, immutable';
      return Bun.file(file);
    }
    set.headers['cache-control'] = 'no-cache';
    return Bun.file(index);
  }, { detail: { hide: true } });
}
