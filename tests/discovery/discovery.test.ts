/**
 * Discovery over the real registry: runtime nodes in their own processes advertise an HTTP address with their
 * heartbeat; a discovery client lists them, and drops one whose process was SIGKILLed no later than its lease TTL
 * after its last heartbeat — while its registry entry is still there (it ages out; nobody cleaned it up).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createClient } from 'redis';
import { advertisedAddress, announce, openDiscovery, type Instance } from '../../runtime/discovery/index.ts';
import { globalKeys } from '../../runtime/keys.ts';
import { startChild } from '../helpers/processes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('discovery');
afterAll(() => cleanupPrefix(prefix));

const TTL_MS = 1_000;
const POLL_MS = 10;

function node(address: string) {
  return startChild('tests/fixtures/runtime-node.ts', { REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: prefix, SERVICE: 'disco', LEASE_TTL_MS: String(TTL_MS), ADVERTISE: address });
}

describe('discovery', () => {
  it('should list every live node of a service at its advertised address, and drop a killed one within its lease TTL', async () => {
    const a = node('127.0.0.2:4101');
    const b = node('127.0.0.3:4102');
    await Promise.all([a.waitLine('node a ready', (l) => l.ready), b.waitLine('node b ready', (l) => l.ready)]);
    const discovery = await openDiscovery({ redis: SHARED_REDIS, keyPrefix: prefix, services: ['disco'], refreshMs: 250 });
    try {
      await waitFor('both nodes to be discovered', () => discovery.instances('disco').length === 2, 5_000, 20);
      expect(discovery.origins('disco')).toEqual(['http://127.0.0.2:4101', 'http://127.0.0.3:4102']);
      expect(discovery.instances('disco').map((i) => i.ttlMs)).toEqual([TTL_MS, TTL_MS]);

      let lastSeen: Instance | undefined;
      await b.kill('SIGKILL');
      let goneAt = 0;
      for (;;) {
        const found = discovery.instances('disco').find((i) => i.address === '127.0.0.3:4102');
        if (!found) {
          goneAt = Date.now();
          break;
        }
        lastSeen = found;
        await Bun.sleep(POLL_MS);
      }
      expect(lastSeen).toBeDefined();
      // Gone no later than its TTL after the last heartbeat it wrote (one polling step of slack on our side).
      expect(goneAt - lastSeen!.lastHeartbeat).toBeLessThanOrEqual(TTL_MS + POLL_MS + 50);
      // Dropped by the age of its heartbeat: its registry entry still exists (nothing removed it).
      const redis = createClient({ url: SHARED_REDIS });
      await redis.connect();
      const keys = globalKeys(prefix);
      expect(await redis.zScore(keys.nodes('disco'), lastSeen!.id)).not.toBeNull();
      await redis.quit();
      // The live one stays.
      expect(discovery.origins('disco')).toEqual(['http://127.0.0.2:4101']);
    } finally {
      await discovery.close();
      await a.kill('SIGTERM');
    }
  });

  it('should find a process that hosts no actors once it announces itself, and forget it at once when it stops', async () => {
    const discovery = await openDiscovery({ redis: SHARED_REDIS, keyPrefix: prefix, services: ['edge'], refreshMs: 250 });
    const entry = await announce({ service: 'edge', address: '127.0.0.4:4200', redis: SHARED_REDIS, keyPrefix: prefix, describe: () => ({ requests: '7' }) });
    try {
      await discovery.refresh();
      expect(discovery.instances('edge').map((i) => [i.address, i.info.requests])).toEqual([['127.0.0.4:4200', '7']]);
      await entry.stop();
      await discovery.refresh();
      expect(discovery.instances('edge')).toEqual([]);
    } finally {
      await entry.stop();
      await discovery.close();
    }
  });
});

describe('advertisedAddress', () => {
  it('should advertise the bound host with the port, or MAILROOM_ADVERTISE when it says otherwise', () => {
    expect(advertisedAddress(3001, {})).toBe('127.0.0.1:3001');
    expect(advertisedAddress(3001, { MAILROOM_HOST: '127.0.0.2' })).toBe('127.0.0.2:3001');
    expect(advertisedAddress(3001, { MAILROOM_HOST: '0.0.0.0', MAILROOM_ADVERTISE: '10.0.0.7' })).toBe('10.0.0.7:3001');
    expect(advertisedAddress(3001, { MAILROOM_HOST: '127.0.0.2', MAILROOM_ADVERTISE: 'edge.example:8443' })).toBe('edge.example:8443');
    expect(advertisedAddress(3001, { MAILROOM_HOST: '::1' })).toBe('[::1]:3001');
  });

  it('should refuse a wildcard bind with nothing to advertise, and an advertised address that is not one', () => {
    expect(() => advertisedAddress(3001, { MAILROOM_HOST: '0.0.0.0' })).toThrow(/MAILROOM_HOST=0.0.0.0 binds every interface.*MAILROOM_ADVERTISE/);
    expect(() => advertisedAddress(3001, { MAILROOM_ADVERTISE: 'http://x:1' })).toThrow(/MAILROOM_ADVERTISE=http:\/\/x:1 is not a host or host:port/);
    expect(() => advertisedAddress(3001, { MAILROOM_ADVERTISE: 'x:70000' })).toThrow(/is not a host or host:port/);
  });
});
