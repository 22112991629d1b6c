import { describe, expect, it } from 'bun:test';
import { LinkFaultError, withFaults, type RedisArg, type RedisLink } from '../../runtime/redis/index.ts';
import { scripts } from '../../runtime/redis/script.ts';

/** A link that records what reached "Redis" and answers after `delayMs` (or when released by hand). */
function fakeLink(delayMs = 0) {
  const sent: string[] = [];
  const link: RedisLink = {
    async call(args: RedisArg[]) {
      sent.push(args.join(' '));
      if (delayMs) await Bun.sleep(delayMs);
      return `ok ${args.join(' ')}`;
    },
    async close() {},
    abort() {},
  };
  return { link, sent };
}

const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));

describe('fault link', () => {
  it('should fail a call before sending it, and count it', async () => {
    const { link, sent } = fakeLink();
    const f = withFaults(link, { seed: 1, probability: { fail: 1 } });
    const r = await settle(f.call(['SET', 'k', '1']));
    expect(r.ok).toBe(false);
    expect((r as { e: LinkFaultError }).e).toBeInstanceOf(LinkFaultError);
    expect((r as { e: LinkFaultError }).e.mayHaveRun).toBe(false);
    expect(sent).toEqual([]);
    expect(f.injected.fail).toBe(1);
  });

  it('should run a call and then drop its reply (the outcome unknown to the caller)', async () => {
    const { link, sent } = fakeLink();
    const f = withFaults(link, { seed: 1, probability: { 'drop-reply': 1 } });
    const r = await settle(f.call(['INCR', 'k']));
    expect(sent).toEqual(['INCR k']);
    expect(r.ok).toBe(false);
    expect((r as { e: LinkFaultError }).e.kind).toBe('drop-reply');
    expect((r as { e: LinkFaultError }).e.mayHaveRun).toBe(true);
  });

  it('should fail every call in flight on a reset, and the next few before they are sent', async () => {
    const { link, sent } = fakeLink(30);
    const f = withFaults(link, { seed: 3, probability: {}, afterReset: [2, 2] });
    const inFlight = [settle(f.call(['A'])), settle(f.call(['B']))];
    f.reset();
    expect((await Promise.all(inFlight)).map((r) => r.ok)).toEqual([false, false]);
    expect(sent).toEqual(['A', 'B']); // they were sent: they may have run
    f.resume();
    const next = await Promise.all([settle(f.call(['C'])), settle(f.call(['D'])), settle(f.call(['E']))]);
    expect(next.map((r) => r.ok)).toEqual([false, false, true]);
    expect(sent).toEqual(['A', 'B', 'E']);
  });

  it('should hold calls during a stall and then send them in the order they were made', async () => {
    const { link, sent } = fakeLink();
    const f = withFaults(link, { seed: 1, probability: {} });
    f.stall(80);
    const t0 = Date.now();
    const replies = await Promise.all([f.call(['A']), f.call(['B']), f.call(['C'])]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    expect(sent).toEqual(['A', 'B', 'C']);
    expect(replies).toEqual(['ok A', 'ok B', 'ok C']);
  });

  it('should fault only the calls the filter names (a script by name, a command)', async () => {
    const { link, sent } = fakeLink();
    const f = withFaults(link, { seed: 1, probability: { fail: 1 }, only: { scripts: ['commit-turn-12'], commands: ['XADD'] } });
    expect((await settle(f.call(['GET', 'k']))).ok).toBe(true);
    expect((await settle(f.call(['EVALSHA', scripts.readBatch.sha, 0]))).ok).toBe(true);
    expect((await settle(f.call(['EVALSHA', scripts.commitTurn.sha, 0]))).ok).toBe(false);
    expect((await settle(f.call(['EVAL', scripts.commitTurn.source, 0]))).ok).toBe(false);
    expect((await settle(f.call(['xadd', 's', '*', 'a', '1']))).ok).toBe(false);
    expect(sent.length).toBe(2);
    expect(f.injected.fail).toBe(3);
  });

  it('should draw the same faults for the same seed and calls, and none once healed', async () => {
    const run = async (seed: number) => {
      const f = withFaults(fakeLink().link, { seed, probability: { fail: 0.3, 'drop-reply': 0.3 } });
      const out: boolean[] = [];
      for (let i = 0; i < 40; i++) out.push((await settle(f.call(['PING']))).ok);
      return { out, f };
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(a.out).toEqual(b.out);
    expect(a.out).not.toEqual(c.out);
    expect(a.out.filter((ok) => !ok).length).toBeGreaterThan(5);
    a.f.heal();
    for (let i = 0; i < 20; i++) expect((await settle(a.f.call(['PING']))).ok).toBe(true);
  });

  it('should let held calls out at once when healed', async () => {
    const { link, sent } = fakeLink();
    const f = withFaults(link, { seed: 1, probability: {} });
    f.stall(10_000);
    const p = f.call(['A']);
    await Bun.sleep(10);
    expect(sent).toEqual([]);
    f.heal();
    expect(await p).toBe('ok A');
  });
});
