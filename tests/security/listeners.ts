/**
 * Which addresses a process listens on, read from the kernel: the LISTEN sockets in /proc/net/tcp and tcp6, matched
 * to a process through the socket inodes among its open file descriptors (what `ss -ltnp` does, without needing
 * `ss`). Linux only.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export type Listener = { address: string; port: number; inode: number };

const LISTEN = '0A';

/** `0100007F` → `127.0.0.1` (the kernel writes IPv4 addresses as one little-endian word). */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** A /proc/net/tcp6 address: four little-endian words; `::ffff:a.b.c.d` and `::` named as such. */
function ipv6(hex: string): string {
  const bytes = [0, 8, 16, 24].flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  if (bytes.every((b) => b === 0)) return '::';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * Every listening TCP socket on the machine (this network namespace).
 *
 * @example
 * listeningSockets().filter((l) => l.port === 3000); // [{ address: '127.0.0.1', port: 3000, inode: 91823 }]
 */
export function listeningSockets(): Listener[] {
  const out: Listener[] = [];
  for (const [file, decode] of [['/proc/net/tcp', ipv4], ['/proc/net/tcp6', ipv6]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== LISTEN) continue;
      const [addr, port] = cols[1]!.split(':') as [string, string];
      out.push({ address: decode(addr), port: parseInt(port, 16), inode: Number(cols[9]) });
    }
  }
  return out;
}

/** The socket inodes a process holds open (empty if it is gone). */
function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/**
 * The listening sockets held by any of `pids`.
 *
 * @example
 * listenersOf([server.pid]); // [{ address: '127.0.0.1', port: 3001, inode: … }]
 */
export function listenersOf(pids: readonly number[]): Listener[] {
  const inodes = new Set(pids.flatMap((pid) => [...socketInodesOf(pid)]));
  return listeningSockets().filter((l) => inodes.has(l.inode));
}
