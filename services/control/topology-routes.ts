/**
 * The topology controller: every process as the supervisor sees it, every live node with its partitions and
 * counters, every partition's lease holder, Redis's health, and messages per second per service and between
 * services over the last 10 s. Reading it never fails because a part is missing: Redis down shows as
 * `redis.ok: false` with empty lists.
 */
import { Elysia, t } from 'elysia';
import { answers } from '../../runtime/http/index.ts';
import type { LeaseInfo, NodeInfo, RedisHealth } from '../../runtime/ops/index.ts';
import type { ProcessRecord } from '../../runtime/supervisor/index.ts';
import type { ControlContext } from './context.ts';
import { ControlHealthSchema, ProcessRowSchema, TopologySchema } from './protocol.ts';
import type { Rates } from './rates.ts';

/** A live node as the topology shows it. */
export type TopologyNode = Pick<NodeInfo, 'nodeId' | 'service' | 'pid' | 'partitions' | 'processed' | 'actors' | 'lastSeenMs' | 'sent'>;

/** One discovered instance of a service: its registry entry, the requests it served, how long since its heartbeat. */
export type TopologyInstance = { id: string; address: string; pid: number; requests: number; lastSeenMs: number };

/** What `GET /control/topology` answers (the panel reads it as this type). */
export type Topology = {
  processes: ProcessRecord[];
  instances: Record<string, TopologyInstance[]>;
  nodes: TopologyNode[];
  partitions: LeaseInfo[];
  redis: RedisHealth;
  rates: Rates;
};

const tags = ['topology'];

export function topologyRoutes(ctx: ControlContext) {
  const processes = () => ctx.table.list().catch(() => []);
  return new Elysia({ name: 'control:topology' })
    .get(
      '/topology',
      async (): Promise<Topology> => {
        const [procs, nodes, partitions, redis, rates] = await Promise.all([
          processes(),
          ctx.view.nodes().catch(() => []),
          ctx.view.leases().catch(() => []),
          ctx.view.health(),
          ctx.rates.rates(),
        ]);
        return {
          processes: procs,
          instances: instancesOf(ctx),
          nodes: nodes.map(({ nodeId, service, pid, partitions, processed, actors, lastSeenMs, sent }) => ({ nodeId, service, pid, partitions, processed, actors, lastSeenMs, sent })),
          partitions,
          redis,
          rates,
        };
      },
      {
        response: { 200: TopologySchema },
        detail: {
          responses: answers({ 200: 'The topology (a part that cannot be read is empty; redis.ok says whether Redis answered)' }),
          summary: 'Processes (from the supervisor), instances per service, nodes, partition owners, Redis health and message rates',
          description:
            'instances: per service (and the gateway), every live instance the registry lists — its id, advertised address, pid, requests it has served, and ms since its last heartbeat. processes: name, pid, status (starting | up | down | restarting | stopped), restarts, uptimeMs, url, port, lastExit {code, signal, at}. rates: processedPerSec per service and perSec per service → service link over the last 10 s, from node heartbeats.',
          tags,
        },
      },
    )
    .get('/processes', processes, {
      response: { 200: t.Array(ProcessRowSchema) },
      detail: { summary: 'The supervisor’s process table (the `processes` part of the topology)', tags, responses: answers({ 200: 'Every process the supervisor runs (empty without a supervisor)' }) },
    })
    .get('/health', () => ({ status: 'ok' as const, service: 'control', pid: process.pid }), {
      response: { 200: ControlHealthSchema },
      detail: { summary: 'The control plane answers (for the panel behind its /control proxy)', tags: ['health'], responses: answers({ 200: 'The control plane is up' }) },
    });
}

/** Every live instance the registry lists, by service, with the requests each has served (its traffic). */
function instancesOf(ctx: ControlContext) {
  const now = Date.now();
  const out: Record<string, TopologyInstance[]> = {};
  for (const service of ctx.watched) {
    out[service] = ctx.discovery.instances(service).map((i) => ({
      id: i.id,
      address: i.address,
      pid: Number(i.info.pid ?? 0),
      requests: Number(i.info.requests ?? 0),
      lastSeenMs: Math.max(0, now - i.lastHeartbeat),
    }));
  }
  return out;
}
