/**
 * The provider's Lua scripts (`lua/<verb-noun>-<numKeys>.lua`), run with EVALSHA and falling back to EVAL when Redis
 * does not know a script yet (first use, or after Redis restarted), and their return codes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LuaScript } from '../../runtime/redis/index.ts';

/** One Redis command, as `client.sendCommand` takes it. */
export type RedisCall = (args: string[]) => Promise<unknown>;

/** Return codes of the scripts, mirrored from their headers. */
export enum ScriptCode {
  Existing = 0,
  Created = 1,
  /** void-charge: the key holds a charge. */
  HoldsCharge = 2,
  IdempotencyConflict = -1,
  Voided = -2,
  ChargeNotFound = -3,
  ExceedsCharge = -4,
}

/** A provider script: the runtime's `LuaScript`, over the provider's own connection, answering `{code, payload}`. */
class ProviderScript {
  constructor(private readonly script: LuaScript) {}

  async run(call: RedisCall, keys: readonly string[], args: readonly (string | number)[]): Promise<[ScriptCode, string]> {
    const reply = await this.script.run({ call: (command) => call(command.map(String)) }, keys, args);
    const [code, payload] = reply as [number | string, string | null];
    return [Number(code) as ScriptCode, payload ?? ''];
  }
}

const load = (file: string) => new ProviderScript(new LuaScript(file, readFileSync(join(import.meta.dir, 'lua', `${file}.lua`), 'utf8')));

export const scripts = {
  createCharge: load('create-charge-5'),
  createRefund: load('create-refund-7'),
  voidCharge: load('void-charge-4'),
};
