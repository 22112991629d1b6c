/** What `bun run dev --replicas N` asks the supervisor to run: N of every actor service and of the gateway. */
import { describe, expect, it } from 'bun:test';
import { mailroomProcesses } from '../../services/processes.ts';

describe('mailroomProcesses with replicas', () => {
  it('should run N of every actor service and of the gateway, replica k as name#k on its own port', () => {
    const specs = mailroomProcesses({ dev: false, bun: 'bun', env: {}, replicas: 3 });
    expect(specs.map((s) => s.name)).toEqual([
      'order', 'order#2', 'order#3', 'inventory', 'inventory#2', 'inventory#3', 'payment', 'payment#2', 'payment#3',
      'shipping', 'shipping#2', 'shipping#3', 'provider', 'notifications', 'gateway', 'gateway#2', 'gateway#3', 'control',
    ]);
    const order3 = specs.find((s) => s.name === 'order#3')!;
    expect(order3).toMatchObject({ port: 3021, url: 'http://127.0.0.1:3021', healthUrl: 'http://127.0.0.1:3021/health', env: { MAILROOM_PORT_ORDER: '3021' } });
    expect(specs.find((s) => s.name === 'order')!.env).toBeUndefined();
    expect(new Set(specs.map((s) => s.port)).size).toBe(specs.length);
  });

  it('should keep one of each without replicas, and refuse a count it cannot run', () => {
    expect(mailroomProcesses({ dev: false, bun: 'bun', env: {} }).map((s) => s.name)).toEqual(['order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'gateway', 'control']);
    expect(() => mailroomProcesses({ dev: false, bun: 'bun', env: {}, replicas: 0 })).toThrow(/--replicas must be a whole number from 1 to 9, got 0/);
    expect(() => mailroomProcesses({ dev: false, bun: 'bun', env: {}, replicas: 10 })).toThrow(/got 10/);
  });
});
