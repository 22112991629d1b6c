/**
 * A process's admission control in one handle: its own Redis connection (never a hot path's, and never wrapped in
 * fault injection, so a refusal says what Redis says), the shared backlog sampler over it, and the gate.
 */
import { keyPrefixOf, redisUrlOf } from '../config.ts';
import { Router } from '../node/router.ts';
import { openLink } from '../redis/link.ts';
import type { AdmissionBounds } from './admission-bounds.ts';
import { AdmissionGate } from './admission-gate.ts';
import { BacklogSampler } from './backlog-sampler.ts';

export type Admission = {
  readonly gate: AdmissionGate;
  readonly sampler: BacklogSampler;
  close(): Promise<void>;
};

/**
 * Opens admission control over the mailboxes in `redis` (under `keyPrefix`).
 *
 * @example
 * const admission = await openAdmission({ bounds: admissionBoundsFromEnv()! });
 * app.post('/api/orders', () => { admission.gate.admit(['order', 'inventory']); … });
 */
export async function openAdmission(options: { bounds: AdmissionBounds; redis?: string; keyPrefix?: string; onError?: (error: unknown, where: string) => void }): Promise<Admission> {
  const prefix = options.keyPrefix ?? keyPrefixOf();
  const link = await openLink(options.redis ?? redisUrlOf(), 'node-redis');
  const router = new Router(link, prefix);
  // A failed sample is reported once per outage, not once per tick.
  let failing = false;
  const sampler = new BacklogSampler({
    link,
    keyPrefix: prefix,
    partitionsOf: (service) => router.partitions(service),
    sampleMs: options.bounds.sampleMs,
    onError: (error, where) => {
      if (failing) return;
      failing = true;
      options.onError?.(error, where);
      setTimeout(() => (failing = false), 10_000).unref?.();
    },
  });
  return {
    gate: new AdmissionGate(sampler, options.bounds),
    sampler,
    async close() {
      sampler.stop();
      await link.close().catch(() => link.abort());
    },
  };
}
