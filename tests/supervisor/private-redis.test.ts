/**
 * The private Redis: started with the command the supervisor uses, its data survives a restart (AOF), and one left
 * running by a killed supervisor is recognised by its data directory and stopped — while any other Redis is not.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { pingRedis } from '../../runtime/supervisor/redis-ping.ts';
import { privateRedisCommand, privateRedisUrl, reclaimLeftoverRedis } from '../../runtime/supervisor/private-redis.ts';
import { freePort, isAlive, waitFor } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'mailroom-private-redis-'));
const started: Bun.Subprocess[] = [];
afterAll(() => {
  for (const proc of started) proc.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function startRedis(port: number, dataDir: string) {
  const command = privateRedisCommand({ server: Bun.which('redis-server')!, port, dataDir });
  const proc = Bun.spawn(command, { stdout: 'ignore', stderr: 'ignore' });
  started.push(proc);
  await waitFor(`redis on ${port}`, () => pingRedis(privateRedisUrl(port), 200).then(() => true, () => false), 5000);
  return proc;
}

describe('private redis', () => {
  it('should bind 127.0.0.1 with AOF on and snapshots off, keeping data across a restart', async () => {
    const port = await freePort();
    const dataDir = join(root, 'aof');
    const command = privateRedisCommand({ server: 'redis-server', port, dataDir });
    expect(command.join(' ')).toContain('--bind 127.0.0.1');
    expect(command.join(' ')).toContain('--appendonly yes');
    expect(command.join(' ')).toContain('--daemonize no');
    expect(command[command.indexOf('--save') + 1]).toBe('');

    let proc = await startRedis(port, dataDir);
    let client = await createClient({ url: privateRedisUrl(port) }).connect();
    await client.set('mailroom:test:survives', 'yes');
    expect((await client.configGet('save')).save).toBe('');
    client.destroy();
    proc.kill('SIGTERM');
    await proc.exited;

    proc = await startRedis(port, dataDir);
    client = await createClient({ url: privateRedisUrl(port) }).connect();
    expect(await client.get('mailroom:test:survives')).toBe('yes');
    client.destroy();
    proc.kill('SIGTERM');
    await proc.exited;
  });

  it('should stop a Redis left running on our data directory, and only that one', async () => {
    const port = await freePort();
    const ours = join(root, 'ours');
    const proc = await startRedis(port, ours);

    expect(await reclaimLeftoverRedis({ port, dataDir: join(root, 'someone-else') })).toBeUndefined();
    expect(isAlive(proc.pid)).toBe(true);

    expect(await reclaimLeftoverRedis({ port, dataDir: ours })).toBe(proc.pid);
    await proc.exited;
    expect(proc.signalCode === 'SIGTERM' || proc.exitCode === 0).toBe(true);
  });

  it('should leave a free port alone', async () => {
    expect(await reclaimLeftoverRedis({ port: await freePort(), dataDir: join(root, 'none') })).toBeUndefined();
  });
});
