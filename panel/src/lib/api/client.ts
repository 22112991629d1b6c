/**
 * The panel's HTTP client: JSON in and out, the bearer token on every call (an exposed control plane wants it on
 * reads too), and errors carrying the
 * control plane's `{code, message}` so a view can show the sentence the server wrote.
 */
import type { ErrorBody } from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    private readonly token: () => string | null,
    private readonly timeoutMs = 8_000,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body ?? {});
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  async call<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new ApiError(0, 'UNREACHABLE', `no answer from ${path.split('?')[0]} (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed ?? {}) as Partial<ErrorBody>;
      const fallback = res.status === 502 || res.status === 504 ? 'the control plane is not answering' : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? fallback, err.details);
    }
    return parsed as T;
  }
}
