/**
 * The seven processes' OpenAPI documents, as each serves them at `/swagger/json` (in-process, from the shop the
 * barrage also uses), and the small OpenAPI vocabulary the document tests share.
 */
import type { AppName, InProcessShop } from '../fuzz/in-process-shop.ts';
import { APP_NAMES } from '../fuzz/in-process-shop.ts';

export type Json = Record<string, any>;
export type Operation = { method: string; path: string; op: Json };

export const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Every app's document, fetched as a browser on the process's own origin would.
 *
 * @example
 * const docs = await documentsOf(shop); docs.gateway.paths['/api/orders'].post.requestBody;
 */
export async function documentsOf(shop: InProcessShop): Promise<Record<AppName, Json>> {
  const entries = await Promise.all(
    APP_NAMES.map(async (name) => {
      const host = `127.0.0.1:${shop.ports[name]}`;
      const res = await shop.apps[name].handle(new Request(`http://${host}/swagger/json`, { headers: { host } }));
      if (res.status !== 200) throw new Error(`${name} /swagger/json answered ${res.status}`);
      return [name, (await res.json()) as Json] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<AppName, Json>;
}

/** Every operation of a document, in document order. */
export function operationsOf(doc: Json): Operation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, ops]) => METHODS.filter((m) => ops[m]).map((method) => ({ method, path, op: ops[method] })));
}
