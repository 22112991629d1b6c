/**
 * Messages per second from node heartbeats: every node reports running counters of messages processed and sent
 * per target service; a rate is the difference between two heartbeats of the same node over the time between
 * them, summed per service (and per service pair for the links between services). Counters restart when a
 * partition moves or a node restarts; a counter that went down counts from zero.
 */

/** One node as one heartbeat described it. */
export type NodeCounters = { nodeId: string; service: string; processed: number; sent: Record<string, number>; at: number };

/** What the control plane saw at one moment. */
export type RateSample = { at: number; nodes: NodeCounters[] };

export type Rates = {
  windowS: number;
  services: { service: string; processedPerSec: number }[];
  links: { from: string; to: string; perSec: number }[];
};

const round = (n: number) => Math.round(n * 10) / 10;

/** Growth of a counter from `before` to `now`, or `now` itself when it restarted. */
const grown = (before: number | undefined, now: number) => (before === undefined || now < before ? now : now - before);

/**
 * Rates over the last `windowS` seconds of samples (oldest first), with every service in `services` listed (0 when
 * it has no live node).
 *
 * @example
 * ratesOver([{ at: 0, nodes: [{ nodeId: 'a', service: 'order', processed: 10, sent: {}, at: 0 }] },
 *            { at: 2000, nodes: [{ nodeId: 'a', service: 'order', processed: 30, sent: {}, at: 2000 }] }], 10, ['order']);
 * // { windowS: 10, services: [{ service: 'order', processedPerSec: 10 }], links: [] }
 */
export function ratesOver(samples: readonly RateSample[], windowS: number, services: readonly string[] = []): Rates {
  const latest = samples.at(-1);
  const perService = new Map<string, number>(services.map((s) => [s, 0]));
  const perLink = new Map<string, number>();
  if (latest) {
    const since = latest.at - windowS * 1000;
    const window = samples.filter((s) => s.at >= since);
    for (const node of latest.nodes) {
      perService.set(node.service, perService.get(node.service) ?? 0);
      // The oldest heartbeat of this node in the window that is older than its latest one.
      const earlier = window.map((s) => s.nodes.find((n) => n.nodeId === node.nodeId)).find((n) => n !== undefined && n.at < node.at);
      if (!earlier) continue;
      const seconds = (node.at - earlier.at) / 1000;
      perService.set(node.service, perService.get(node.service)! + grown(earlier.processed, node.processed) / seconds);
      for (const [to, count] of Object.entries(node.sent)) {
        const key = `${node.service}\u0000${to}`;
        perLink.set(key, (perLink.get(key) ?? 0) + grown(earlier.sent[to], count) / seconds);
      }
    }
  }
  return {
    windowS,
    services: [...perService].sort(([a], [b]) => a.localeCompare(b)).map(([service, rate]) => ({ service, processedPerSec: round(rate) })),
    links: [...perLink]
      .map(([key, rate]) => {
        const [from, to] = key.split('\u0000') as [string, string];
        return { from, to, perSec: round(rate) };
      })
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
  };
}
