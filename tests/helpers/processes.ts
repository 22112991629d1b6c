/**
 * Child processes for tests: start a Bun script, read its JSON lines, wait for one, kill it, and make sure none
 * outlives the test file.
 */
import { afterAll } from 'bun:test';

export type Child = {
  proc: ReturnType<typeof Bun.spawn>;
  lines: any[];
  waitLine(what: string, match: (line: any) => boolean, timeoutMs?: number): Promise<any>;
  kill(signal?: NodeJS.Signals): Promise<void>;
};

const children = new Set<Child>();
afterAll(async () => {
  for (const c of children) c.proc.kill('SIGKILL');
  await Promise.all([...children].map((c) => c.proc.exited));
});

export function startChild(script: string, env: Record<string, string>): Child {
  const proc = Bun.spawn(['bun', script], { env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'inherit' });
  const lines: any[] = [];
  const waiters = new Set<() => void>();
  (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ text: line });
        }
        for (const w of waiters) w();
      }
    }
  })();
  const child: Child = {
    proc,
    lines,
    waitLine(what, match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(found);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines: ${JSON.stringify(lines.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      proc.kill(signal);
      await proc.exited;
      children.delete(child);
    },
  };
  children.add(child);
  return child;
}
