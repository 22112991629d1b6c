/**
 * Swagger UI that renders with no internet. Elysia's doc plugins write HTML that loads Swagger UI (or Scalar) from a
 * CDN; here the page is our own and its JavaScript and CSS come from the `swagger-ui-dist` npm package, served under
 * `<docsPath>/assets/*`. The OpenAPI document itself comes from `@elysiajs/openapi` at `<docsPath>/json`.
 */
import { dirname, join } from 'node:path';
import { Elysia } from 'elysia';
import { HttpError } from '../http-error.ts';

const ASSET_DIR = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir));

/** The only files served from the package: no path from the URL ever reaches the file system. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The Swagger UI page: every URL in it is a path on this server.
 *
 * @example
 * swaggerHtml({ title: 'order API', docsPath: '/swagger' }); // '<!doctype html>…/swagger/assets/swagger-ui.css…'
 */
export function swaggerHtml(options: { title: string; docsPath: string }): string {
  const base = options.docsPath;
  // validatorUrl: null stops Swagger UI from sending the spec to validator.swagger.io for its badge.
  const config = JSON.stringify({
    url: `${base}/json`,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    layout: 'BaseLayout',
  });
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${escapeHtml(options.title)}</title>
  <link rel="icon" type="image/png" href="${base}/assets/favicon-32x32.png" />
  <link rel="stylesheet" href="${base}/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle(Object.assign(${config}, { presets: [SwaggerUIBundle.presets.apis] }));
  </script>
</body>
</html>
`;
}

/**
 * An Elysia plugin serving the offline Swagger UI page at `docsPath` and its assets under `docsPath/assets/`.
 *
 * @example
 * new Elysia().use(openapi({ provider: null, specPath: '/swagger/json' })).use(swaggerUi({ title: 'order API' }));
 */
export function swaggerUi(options: { title: string; docsPath?: string }) {
  const docsPath = options.docsPath ?? '/swagger';
  const html = swaggerHtml({ title: options.title, docsPath });
  return new Elysia({ name: 'mailroom:swagger-ui', seed: docsPath })
    .get(
      docsPath,
      () => new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } }),
      { detail: { hide: true } },
    )
    .get(
      `${docsPath}/assets/:file`,
      ({ params }) => {
        // Own keys only: `toString` or `__proto__` must not find something on Object.prototype.
        const type = Object.hasOwn(ASSETS, params.file) ? ASSETS[params.file] : undefined;
        if (type === undefined) throw new HttpError(404, 'NOT_FOUND', `no Swagger UI asset named ${params.file}`);
        return new Response(Bun.file(join(ASSET_DIR, params.file)), {
          headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
        });
      },
      { detail: { hide: true } },
    );
}
