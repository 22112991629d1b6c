/**
 * The supervisor in-process, over real processes and a real (private) Redis: it starts everything healthy, restarts
 * a SIGKILLed child, reports why processes never got healthy, and leaves nothing behind when stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOf } from '../../services/config.ts';
import type { ProcessEvent } from '../../runtime/index.ts';
import { ALLOCATOR_ENV } from '../../runtime/process/allocator.ts';
import { SupervisorError } from '../../runtime/supervisor/index.ts';
import { startSupervisor, type Supervisor } from '../../runtime/supervisor/index.ts';
import { mailroomProcesses } from '../../services/processes.ts';
import { freePort, freePortOffset, isAlive, ROOT, statusOf, waitFor } from './helpers.ts';

const quiet = { log: () => {}, output: () => {} };

describe('supervisor', () => {
  let supervisor: Supervisor;
  let dataDir: string;
  let env: Record<string, string | undefined>;
  const events: ProcessEvent[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mailroom-supervisor-'));
    env = { ...process.env, MAILROOM_PORT_OFFSET: String(await freePortOffset()), REDIS_URL: undefined };
    supervisor = await startSupervisor({
      processes: mailroomProcesses({ dev: false, bun: process.execPath, env }),
      cwd: ROOT,
      env,
      host: '127.0.0.1',
      privateRedis: { port: portOf('redis', env), dataDir: join(dataDir, 'redis') },
      onEvent: (event) => events.push(event),
      ...quiet,
    });
  });

  afterAll(async () => {
    await supervisor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should start every process and its own Redis, each answering its health URL', async () => {
    const names = supervisor.processes().map((p) => p.name);
    expect(names).toEqual(['redis', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway', 'control']);
    for (const spec of mailroomProcesses({ dev: false, bun: process.execPath, env })) {
      const res = await fetch(spec.healthUrl);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { service: string; pid: number; checks?: Record<string, { ok: boolean }> };
      expect(body.service).toBe(spec.name);
      expect(body.pid).toBe(supervisor.child(spec.name)!.pid!);
      // The services report the supervisor's private Redis as reachable.
      if (body.checks?.redis) expect(body.checks.redis.ok).toBe(true);
    }
    expect(supervisor.redisUrl).toBe(`redis://127.0.0.1:${portOf('redis', env)}`);
    expect(events.filter((e) => e.type === 'process.healthy').map((e) => e.process).sort()).toEqual([...names].sort());
  });

  it("should start every process with the allocator's settings in its environment", () => {
    for (const spec of mailroomProcesses({ dev: false, bun: process.execPath, env })) {
      const environ = readFileSync(`/proc/${supervisor.child(spec.name)!.pid}/environ`, 'utf8').split('\0');
      for (const [name, value] of Object.entries(ALLOCATOR_ENV)) expect(environ).toContain(`${name}=${value}`);
    }
  });

  it('should restart a SIGKILLed child with a new pid that is healthy again', async () => {
    const child = supervisor.child('inventory')!;
    const before = child.pid!;
    process.kill(before, 'SIGKILL');
    await waitFor('a new inventory pid', () => child.pid !== undefined && child.pid !== before && child.status === 'healthy');
    const res = await fetch(`http://127.0.0.1:${portOf('inventory', env)}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { pid: number }).pid).toBe(child.pid!);
    expect(child.restarts).toBe(1);
    expect(child.lastExit).toBe('killed by SIGKILL');
    expect(events).toContainEqual(expect.objectContaining({ type: 'process.exited', process: 'inventory', pid: before, signal: 'SIGKILL' }));
  });

  it('should stop every process and its Redis within 5 s, leaving no pid alive', async () => {
    const pids = supervisor.pids();
    expect(pids).toHaveLength(9);
    const started = performance.now();
    await supervisor.stop();
    expect(performance.now() - started).toBeLessThan(5000);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await statusOf(`http://127.0.0.1:${portOf('order', env)}/health`)).toBe(0);
  });
});

describe('supervisor health timeout', () => {
  // The shared test Redis: only pinged by the prerequisite check, these children never touch it.
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

  it('should name a process that never answers its health URL, and why', async () => {
    const [silentPort, crashPort] = [await freePort(), await freePort()];
    const started = performance.now();
    const error = await startSupervisor({
      processes: [
        {
          name: 'silent',
          command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
          port: silentPort,
          healthUrl: `http://127.0.0.1:${silentPort}/health`,
        },
        {
          name: 'crasher',
          command: [process.execPath, '-e', 'process.exit(3)'],
          port: crashPort,
          healthUrl: `http://127.0.0.1:${crashPort}/health`,
        },
      ],
      cwd: ROOT,
      host: '127.0.0.1',
      redisUrl,
      healthTimeoutMs: 1500,
      backoff: { initialMs: 50, maxMs: 200, stableAfterMs: 10_000 },
      ...quiet,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SupervisorError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`silent did not become healthy within 2 s: GET http://127.0.0.1:${silentPort}/health → connection refused`);
    expect(lines[1]).toMatch(/^crasher did not become healthy within 2 s: .*; it died \d+ time\(s\), last exited with code 3$/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
