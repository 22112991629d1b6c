/**
 * Who is listening on a TCP port, so "port in use" can name the culprit. Asks `ss` first (fast, one call), then
 * reads /proc directly (listening sockets in /proc/net/tcp{,6}, matched to a process through its /proc/<pid>/fd
 * links); when neither can tell (another user's process, another network namespace, not Linux) it says nothing.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export type PortHolder = { pid: number; command: string };

/** The command line of a pid, shortened for one line of output. */
function commandOf(pid: number, fallback = '?'): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const line = argv.join(' ');
    return line.length > 80 ? `${line.slice(0, 77)}...` : line || fallback;
  } catch {
    return fallback;
  }
}

/**
 * Asks `ss` for the listener on `port`.
 *
 * @example
 * holderFromSs(6379); // { pid: 2206, command: 'redis-server 127.0.0.1:6379' }
 */
export function holderFromSs(port: number): PortHolder | undefined {
  const ss = Bun.which('ss');
  if (!ss) return undefined;
  try {
    const out = Bun.spawnSync([ss, '-Hltnp', `sport = :${port}`], { stdout: 'pipe', stderr: 'ignore', timeout: 2000 });
    const match = out.stdout.toString().match(/users:\(\("([^"]*)",pid=(\d+)/);
    if (!match) return undefined;
    const pid = Number(match[2]);
    return { pid, command: commandOf(pid, match[1]) };
  } catch {
    return undefined;
  }
}

/** Inodes of sockets listening on `port` (state 0A), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9] !== '0') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/**
 * Finds the listener on `port` by reading /proc (no external tool).
 *
 * @example
 * holderFromProc(3001); // { pid: 4242, command: 'bun services/order/main.ts' }
 */
export function holderFromProc(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = link.match(/^socket:\[(\d+)\]$/)?.[1];
      if (inode && inodes.has(inode)) return { pid: Number(pid), command: commandOf(Number(pid)) };
    }
  }
  return undefined;
}

/**
 * The process listening on `port`, if this machine lets us find out.
 *
 * @example
 * const holder = findPortHolder(3001);
 * console.log(holder ? `in use by pid ${holder.pid} (${holder.command})` : 'in use by another process');
 */
export function findPortHolder(port: number): PortHolder | undefined {
  return holderFromSs(port) ?? holderFromProc(port);
}
