/**
 * A Redis address fit to print: `redis://user:secret@host:port` carries its password (that is how every process
 * gets it), and logs, `/health` answers, the supervisor's table and the panel must not show it.
 */

/**
 * The address with its password replaced by `***` (the user name stays: it says which ACL user connects).
 *
 * @example
 * redactedUrl('redis://mailroom:s3cret@127.0.0.1:6380'); // 'redis://mailroom:***@127.0.0.1:6380'
 * redactedUrl('redis://:s3cret@127.0.0.1:6380'); // 'redis://:***@127.0.0.1:6380'
 * redactedUrl('redis://127.0.0.1:6380'); // unchanged
 */
export function redactedUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
