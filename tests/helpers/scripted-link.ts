/**
 * A Redis link whose calls a test can watch and fail one by one, for deterministic failure-path tests (the seeded
 * fault link of `bun run chaos --link` is for random schedules). `decide` sees every call and says what happens:
 * run it, fail it before it runs, or run it and lose the reply — at once or after a while.
 */
import type { RedisArg, RedisLink } from '../../runtime/redis/index.ts';
import { scripts } from '../../runtime/redis/script.ts';

export type Verdict = 'run' | 'fail' | 'drop-reply' | { afterMs: number; then: 'run' | 'fail' | 'drop-reply' };
export type Call = { role: string; args: RedisArg[]; at: number };

export class ScriptedFaults {
  readonly calls: Call[] = [];
  decide: (call: Call) => Verdict = () => 'run';

  wrap = (link: RedisLink, role: string): RedisLink => ({
    call: async (args) => {
      const call = { role, args, at: performance.now() };
      this.calls.push(call);
      let verdict = this.decide(call);
      if (typeof verdict === 'object') {
        await Bun.sleep(verdict.afterMs);
        verdict = verdict.then;
      }
      if (verdict === 'fail') throw new Error(`injected: ${String(args[0])} failed before it ran`);
      const reply = await link.call(args);
      if (verdict === 'drop-reply') throw new Error(`injected: the reply to ${String(args[0])} was lost`);
      return reply;
    },
    close: () => link.close(),
    abort: () => link.abort(),
  });

  /** The batch argument of a commit script call (JSON), or undefined for other calls. */
  static commitBatch(call: Call): string | undefined {
    if (!isScript(call, 'commitTurn')) return undefined;
    return call.args.find((a) => typeof a === 'string' && a.startsWith('{"a":')) as string | undefined;
  }

  /** Calls of one script (by its name in `scripts`) since a time. */
  scriptCalls(name: keyof typeof scripts, since = 0): Call[] {
    return this.calls.filter((c) => c.at >= since && isScript(c, name));
  }
}

/** Whether a call runs one of the runtime's scripts. */
export function isScript(call: Call, name: keyof typeof scripts): boolean {
  const script = scripts[name];
  return (call.args[0] === 'EVALSHA' && call.args[1] === script.sha) || (call.args[0] === 'EVAL' && call.args[1] === script.source);
}
