/**
 * The control plane in-process for tests: its routes on a service app (`app.handle`), over a context on the shared
 * Redis under the test's own key prefix, with a known token, the panel origins of the default ports, and the
 * upstream processes (order, payment, gateway) wherever the test points them (nowhere by default: a free port).
 */
import { createServiceApp } from '../../runtime/http/index.ts';
import { openControlContext, type ControlContext } from '../../services/control/context.ts';
import { controlRoutes } from '../../services/control/routes.ts';
import { panelOrigins } from '../../services/control/security.ts';
import { freePort, SHARED_REDIS } from '../helpers/redis.ts';

export const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvwxyz';
export const PANEL_ORIGINS = panelOrigins({});

export type Call = (method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string> }) => Promise<Response>;

export async function controlApp(options: {
  prefix: string;
  origins?: Partial<Record<'order' | 'payment' | 'gateway' | 'notifications', string>>;
  follow?: boolean;
  heartbeatMs?: number;
  redis?: string;
}) {
  const nowhere = `http://127.0.0.1:${freePort()}`;
  const ctx: ControlContext = await openControlContext({
    redis: options.redis ?? SHARED_REDIS,
    keyPrefix: options.prefix,
    origins: (name) => options.origins?.[name] ?? nowhere,
    follow: options.follow ?? true,
    heartbeatMs: options.heartbeatMs,
  });
  const app = createServiceApp({ name: 'control', log: () => {}, trustedOrigins: PANEL_ORIGINS }).use(controlRoutes(ctx, { token: TOKEN, origins: PANEL_ORIGINS }));
  const call: Call = (method, path, { body, token = TOKEN, headers = {} } = {}) =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  const json = async (method: string, path: string, opts?: Parameters<Call>[2]) => {
    const res = await call(method, path, opts);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
  };
  return { ctx, app, call, json, close: () => ctx.close() };
}

/** Reads Server-Sent Events from a response body: `next(n)` resolves with the next n data messages. */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const messages: { id?: string; data: any }[] = [];
  const comments: string[] = [];
  const parse = () => {
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      let id: string | undefined;
      let data: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      if (data !== undefined) messages.push({ id, data: JSON.parse(data) });
    }
  };
  const pump = async (until: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!until()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; got ${messages.length} message(s), comments ${JSON.stringify(comments)}`);
      const chunk = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (chunk === null) continue;
      if (chunk.done) throw new Error('the stream ended');
      text += decoder.decode(chunk.value, { stream: true });
      parse();
    }
  };
  return {
    messages,
    comments,
    /** Waits until at least `count` events (summed over messages) have arrived. */
    async events(count: number, timeoutMs = 5_000) {
      const all = () => messages.flatMap((m) => m.data as any[]);
      await pump(() => all().length >= count, timeoutMs);
      return all();
    },
    async comment(match: (c: string) => boolean, timeoutMs = 5_000) {
      await pump(() => comments.some(match), timeoutMs);
    },
    close: () => reader.cancel(),
  };
}
