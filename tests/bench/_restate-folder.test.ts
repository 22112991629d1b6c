import { describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '../..');
const PEER = join(import.meta.dir, 'restate');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the Restate peer of bench saga', () => {
  it('should keep its packages out of the root install', () => {
    const root = JSON.parse(read('package.json')) as Record<string, Record<string, string> | string[] | undefined>;
    const deps = { ...(root.dependencies as object), ...(root.devDependencies as object), ...(root.optionalDependencies as object) };
    expect(Object.keys(deps).filter((name) => name.startsWith('@restatedev/'))).toEqual([]);
    const workspaces = [root.workspaces ?? []].flat().map(String);
    expect(workspaces.filter((w) => new Bun.Glob(w.replace(/\/$/, '')).match('tests/bench/restate'))).toEqual([]);
    expect(read('bun.lock')).not.toContain('@restatedev/');
  });

  it('should have its own package.json and lock file, with the server and the SDK pinned', () => {
    const peer = JSON.parse(readFileSync(join(PEER, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(peer.dependencies['@restatedev/restate-server']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(peer.dependencies['@restatedev/restate-sdk']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(existsSync(join(PEER, 'bun.lock'))).toBe(true);
    expect(readFileSync(join(PEER, 'bun.lock'), 'utf8')).toContain('@restatedev/restate-server-linux-x64');
  });

  it('should have its node_modules ignored by git and its code left out of the root type check', () => {
    const ignored = Bun.spawnSync(['git', 'check-ignore', '-q', 'tests/bench/restate/node_modules/@restatedev/restate-server/package.json'], { cwd: ROOT });
    expect(ignored.exitCode).toBe(0);
    const tsconfig = JSON.parse(read('tsconfig.json')) as { exclude: string[] };
    expect(tsconfig.exclude).toContain('tests/bench/restate');
  });
});
