/**
 * How a Redis Cluster is named where the runtime expects a Redis URL: `redis-cluster://host:port,host:port`
 * (optionally `redis-cluster://user:password@…`). Every `redis` option and `redisUrlOf()` carry it unchanged, and
 * `openLink` recognises it, so a process moves from one Redis to a cluster by its environment alone.
 */

const SCHEME = 'redis-cluster://';

/** Whether a Redis address names a cluster. */
export function isClusterUrl(url: string): boolean {
  return url.startsWith(SCHEME);
}

/**
 * Validates a `host:port,…` list of seed nodes.
 *
 * @example
 * parseClusterNodes('127.0.0.1:7001,127.0.0.1:7002', 'MAILROOM_REDIS_CLUSTER'); // ['127.0.0.1:7001', '127.0.0.1:7002']
 */
export function parseClusterNodes(list: string, what: string): string[] {
  const nodes = list.split(',').map((n) => n.trim()).filter(Boolean);
  if (nodes.length === 0) throw new Error(`${what}=${list} names no node (expected host:port,host:port,…)`);
  for (const node of nodes) {
    const match = /^([^:\s]+):(\d+)$/.exec(node);
    const port = Number(match?.[2]);
    if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${what}: "${node}" is not host:port (expected host:port,host:port,…)`);
    }
  }
  return nodes;
}

/**
 * The address of a cluster from its seed nodes.
 *
 * @example
 * clusterUrl(['127.0.0.1:7001', '127.0.0.1:7002']); // 'redis-cluster://127.0.0.1:7001,127.0.0.1:7002'
 */
export function clusterUrl(nodes: readonly string[]): string {
  return `${SCHEME}${nodes.join(',')}`;
}

export type ClusterAddress = { nodes: string[]; username?: string; password?: string };

/**
 * The seed nodes and credentials of a cluster address.
 *
 * @example
 * parseClusterUrl('redis-cluster://app:s3cret@10.0.0.1:7001'); // { nodes: ['10.0.0.1:7001'], username: 'app', password: 's3cret' }
 */
export function parseClusterUrl(url: string): ClusterAddress {
  if (!isClusterUrl(url)) throw new Error(`${url} is not a redis-cluster:// address`);
  let rest = url.slice(SCHEME.length).replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  const out: ClusterAddress = { nodes: [] };
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    if (colon >= 0) {
      if (colon > 0) out.username = decodeURIComponent(auth.slice(0, colon));
      out.password = decodeURIComponent(auth.slice(colon + 1));
    } else out.password = decodeURIComponent(auth);
  }
  out.nodes = parseClusterNodes(rest, url.replace(/\/\/[^@]*@/, '//…@'));
  return out;
}
