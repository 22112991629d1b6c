/**
 * The address a process tells the registry to be reached at. It may differ from the interface it binds: a process
 * bound to every interface (`0.0.0.0`) or behind a NAT must name the address others use (`MAILROOM_ADVERTISE`),
 * or the registry would hand callers an address that leads nowhere.
 */
import { hostOf } from '../config.ts';

type Env = Record<string, string | undefined>;

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * `host:port` for the registry: `MAILROOM_ADVERTISE` (`host` or `host:port`) if set, else the bound host
 * (`MAILROOM_HOST`) with `port`. Throws when the bound host is a wildcard and nothing says which address to give.
 *
 * @example
 * advertisedAddress(3001, { MAILROOM_HOST: '127.0.0.2' }); // '127.0.0.2:3001'
 * advertisedAddress(3001, { MAILROOM_HOST: '0.0.0.0', MAILROOM_ADVERTISE: '10.0.0.7' }); // '10.0.0.7:3001'
 */
export function advertisedAddress(port: number, env: Env = process.env): string {
  const advertise = env.MAILROOM_ADVERTISE?.trim();
  if (advertise) {
    const match = /^(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(advertise);
    if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) {
      throw new Error(`MAILROOM_ADVERTISE=${advertise} is not a host or host:port (e.g. 10.0.0.7 or 10.0.0.7:3001)`);
    }
    return `${match[1]}:${match[2] ?? port}`;
  }
  const host = hostOf(env);
  if (WILDCARDS.has(host)) {
    throw new Error(`MAILROOM_HOST=${host} binds every interface, so it is no address to be reached at: set MAILROOM_ADVERTISE to the one callers use`);
  }
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}
