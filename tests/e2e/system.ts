/**
 * The real Mailroom for the e2e tests: `bun services/system.ts --dev --trace` (what `bun run dev --trace` runs) on a free port
 * range (`MAILROOM_PORT_OFFSET`) with its own private Redis and data directory, so it never meets a developer's
 * running system. The global setup starts it and hands its addresses and token to the tests through the
 * environment; the teardown stops it with SIGINT, as Ctrl-C would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PORTS } from '../../services/config.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
const STATE_FILE = join(ARTIFACTS, 'system.json');

export type SystemInfo = { pid: number; offset: number; dataDir: string; panelUrl: string; token: string; control: string; gateway: string; panel: string };

function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => done(true)));
  });
}

/**
 * Ports Chromium refuses to open (`net::ERR_UNSAFE_PORT`; its `kRestrictedPorts` above 1000): an e2e run whose random
 * offset put the gateway on 6665 failed both Swagger specs.
 */
const BROWSER_REFUSED = new Set([1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);

/** Whether the browser can open every default port shifted by `offset`. */
export function browserCanReach(offset: number): boolean {
  return Object.values(DEFAULT_PORTS).every((port) => !BROWSER_REFUSED.has(port + offset));
}

/** An offset under which every default port (3000…6380 + offset) is free, and none is one the browser refuses. */
async function freeOffset(): Promise<number> {
  const ports = Object.values(DEFAULT_PORTS);
  const base = Math.min(...ports);
  const span = Math.max(...ports) - base;
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+): a port there can be taken by any outbound connection before the child binds it.
    const offset = 1000 + Math.floor(Math.random() * (32_000 - base - span - 1000));
    if (offset < 1000 || base + offset + span > 65_000 || !browserCanReach(offset)) continue;
    if ((await Promise.all(ports.map((p) => isFree(p + offset)))).every(Boolean)) return offset;
  }
  throw new Error('no free port range for the e2e system');
}

/** Starts the system and resolves once it printed its table and the panel URL (with the token). */
export async function startSystem(): Promise<SystemInfo> {
  const offset = await freeOffset();
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MAILROOM_PORT_OFFSET: String(offset), MAILROOM_DATA_DIR: dataDir, NO_COLOR: '1' };
  delete env.REDIS_URL;
  delete env.MAILROOM_PREFIX;
  // With tracing on (`--trace`): every process exports its spans to the control plane, so a saga links to its trace.
  const child: ChildProcess = spawn(process.execPath, ['services/system.ts', '--dev', '--trace'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    out += text;
    log.push(text);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const logFile = join(ARTIFACTS, 'system.log');
  const flush = setInterval(() => writeFileSync(logFile, log.join('')), 1_000);
  child.once('exit', () => {
    clearInterval(flush);
    writeFileSync(logFile, log.join(''));
  });

  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null) throw new Error(`the system exited with ${child.exitCode} before it was up:\n${out.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the system was not up within 90 s:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const panelUrl = /panel: (http:\/\/\S+)/.exec(out)?.[1];
  const token = panelUrl ? new URL(panelUrl).searchParams.get('token') : null;
  if (!panelUrl || !token) throw new Error(`no panel URL with a token in the output:\n${out.slice(-2000)}`);
  const info: SystemInfo = {
    pid: child.pid!,
    offset,
    dataDir,
    panelUrl,
    token,
    control: `http://127.0.0.1:${DEFAULT_PORTS.control + offset}`,
    gateway: `http://127.0.0.1:${DEFAULT_PORTS.gateway + offset}`,
    panel: `http://127.0.0.1:${DEFAULT_PORTS.panel + offset}`,
  };
  writeFileSync(STATE_FILE, JSON.stringify(info, null, 2));
  return info;
}

/** What the global setup started (read by the tests and the teardown). */
export function systemInfo(): SystemInfo {
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as SystemInfo;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGINT (as Ctrl-C), then SIGKILL after 15 s; removes the data directory. */
export async function stopSystem(info: SystemInfo): Promise<void> {
  if (alive(info.pid)) {
    process.kill(info.pid, 'SIGINT');
    const deadline = Date.now() + 15_000;
    while (alive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(info.pid)) process.kill(info.pid, 'SIGKILL');
  }
  rmSync(info.dataDir, { recursive: true, force: true });
}
