/**
 * The key a command is routed by on a Redis Cluster: the first key it names (a script's first KEYS entry, a
 * stream read's first stream, a sharded channel), or undefined for a command that names none (PING, INFO, CLIENT,
 * PUBLISH), which any node may answer. Every command the runtime sends names keys of one slot only (the hash tags
 * see to that), so the first key stands for all of them.
 */
import type { RedisArg } from './link.ts';

const KEYLESS = new Set(['PING', 'INFO', 'CLIENT', 'PUBLISH', 'WAIT', 'CLUSTER', 'COMMAND', 'DBSIZE', 'TIME', 'ECHO', 'SCRIPT', 'CONFIG']);

/**
 * @example
 * firstKeyOf(['EVALSHA', sha, 2, 'mr:{order:3}:lease', 'mr:{order:3}:mbox', 'v']); // 'mr:{order:3}:lease'
 * firstKeyOf(['XREAD', 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 'mr:{order:3}:mbox', '$']); // 'mr:{order:3}:mbox'
 * firstKeyOf(['PING']); // undefined
 */
export function firstKeyOf(args: readonly RedisArg[]): string | undefined {
  const cmd = String(args[0]).toUpperCase();
  if (KEYLESS.has(cmd)) return undefined;
  switch (cmd) {
    case 'EVAL':
    case 'EVALSHA':
    case 'EVAL_RO':
    case 'EVALSHA_RO':
      return Number(args[2]) > 0 ? String(args[3]) : undefined;
    case 'XREAD':
    case 'XREADGROUP': {
      const at = args.findIndex((a) => String(a).toUpperCase() === 'STREAMS');
      return at >= 0 ? String(args[at + 1]) : undefined;
    }
    case 'XINFO':
    case 'XGROUP':
    case 'OBJECT':
    case 'MEMORY':
      return args[2] === undefined ? undefined : String(args[2]);
    default:
      return args[1] === undefined ? undefined : String(args[1]);
  }
}
