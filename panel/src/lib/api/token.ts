/**
 * The control token's journey: `bun run dev` prints the panel URL with `?token=…`; the panel takes it from the URL
 * once, keeps it for the tab in sessionStorage, and removes it from the address bar (so it is not bookmarked,
 * shared or left in the history). Mutating control calls send it as a bearer token.
 */

export const TOKEN_KEY = 'mailroom.control-token';

/**
 * The token in a URL's query, and the URL without it.
 *
 * @example
 * takeToken('http://127.0.0.1:5173/?token=abc#/sagas'); // { token: 'abc', cleanUrl: 'http://127.0.0.1:5173/#/sagas' }
 */
export function takeToken(href: string): { token: string | null; cleanUrl: string } {
  const url = new URL(href);
  const token = url.searchParams.get('token');
  if (token === null) return { token: null, cleanUrl: href };
  url.searchParams.delete('token');
  return { token: token || null, cleanUrl: url.toString() };
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** Reads the token from the page's URL (once) or from the tab's storage; cleans the address bar. */
export function loadToken(location: Location, history: History, storage: Store): string | null {
  const { token, cleanUrl } = takeToken(location.href);
  if (token) {
    storage.setItem(TOKEN_KEY, token);
    history.replaceState(history.state, '', cleanUrl);
    return token;
  }
  return storage.getItem(TOKEN_KEY);
}
