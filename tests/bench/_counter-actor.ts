/**
 * The actor both benchmarks host: a counter whose every `inc` adds one, as the runtime issue's example has it.
 */
import { assign, setup } from 'xstate';
import { defineActor, type ActorOptions } from '../../runtime/index.ts';

export const counterMachine = setup({ types: {} as { context: { n: number }; events: { type: 'inc' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

export const counterActor = (options?: ActorOptions) => defineActor('counter', counterMachine, options);
