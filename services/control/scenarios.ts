/**
 * The named failure scenarios behind the panel's one-click buttons: each is a handful of chaos rules and/or
 * process actions, declared here as data so the route, the panel's list and the tests agree on what each does.
 */
import { type ChaosRule } from '../../runtime/index.ts';
import { type ProcessAction } from '../../runtime/supervisor/index.ts';
import { SERVICE_NAMES } from '../config.ts';

export type ScenarioRule = Omit<ChaosRule, 'id' | 'createdAt' | 'expiresAt'>;

export type Scenario = {
  name: string;
  title: string;
  description: string;
  /** How long its rules last unless the request says otherwise. */
  durationMs: number;
  rules: ScenarioRule[];
  actions: { action: ProcessAction; process: string }[];
};

const DEFAULT_DURATION_MS = 60_000;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'payment-provider-down',
    title: 'Payment provider down',
    description: 'Every call to the payment provider fails (503): the payment breaker opens and sagas compensate.',
    durationMs: DEFAULT_DURATION_MS,
    rules: [{ kind: 'error', target: { dependency: 'provider' }, probability: 1, status: 503, note: 'scenario payment-provider-down' }],
    actions: [],
  },
  {
    name: 'slow-inventory',
    title: 'Slow inventory',
    description: 'Every message to an inventory actor waits 300–800 ms before it is processed.',
    durationMs: DEFAULT_DURATION_MS,
    rules: [{ kind: 'latency', target: { service: 'inventory' }, probability: 1, latencyMs: { min: 300, max: 800 }, note: 'scenario slow-inventory' }],
    actions: [],
  },
  {
    name: 'crash-shipping',
    title: 'Crash shipping',
    description: 'SIGKILL to the shipping process; the supervisor restarts it and its partitions are taken over.',
    durationMs: 0,
    rules: [],
    actions: [{ action: 'kill', process: 'shipping' }],
  },
  {
    name: 'drop-10pct',
    title: 'Drop 10% of messages',
    description: 'One message in ten to any service’s actors is lost on the way (the sender’s timeout and retry must cope).',
    durationMs: DEFAULT_DURATION_MS,
    rules: SERVICE_NAMES.map((service) => ({ kind: 'drop' as const, target: { service }, probability: 0.1, note: 'scenario drop-10pct' })),
    actions: [],
  },
];

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
