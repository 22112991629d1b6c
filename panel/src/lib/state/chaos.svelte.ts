/**
 * The Chaos view's state: named scenarios, active rules (polled; each shows its time left), the rule form, process
 * kill/restart, pausing a service, the load generator and the strangler weight — every action through the
 * token-guarded control API, each reported as a notice.
 */
import type { ChaosRule, LoadStatus, NewChaosRule, Scenario, StranglerView } from '../api/types.ts';
import { EMPTY_FORM, ruleFromForm, type RuleForm } from '../models/chaos-form.ts';
import type { Panel } from './panel.svelte.ts';
import { Poll } from './poll.svelte.ts';

/** Shown when the control plane does not list its scenarios. */
export const KNOWN_SCENARIOS: Scenario[] = [
  { name: 'payment-provider-down', title: 'Payment provider down', description: 'Every call from payment to the provider fails.' },
  { name: 'slow-inventory', title: 'Slow inventory', description: "300–800 ms latency on inventory's messages." },
  { name: 'crash-shipping', title: 'Crash shipping', description: 'SIGKILL the shipping process; the supervisor restarts it.' },
  { name: 'drop-10pct', title: 'Drop 10% of messages', description: "10% of every service's messages are dropped." },
];

export class ChaosState {
  readonly rules: Poll<ChaosRule[]>;
  readonly load: Poll<LoadStatus>;
  scenarios = $state.raw<Scenario[]>(KNOWN_SCENARIOS);
  form = $state<RuleForm>({ ...EMPTY_FORM });
  formProblems = $state<string[]>([]);
  scenarioS = $state(60);
  loadRate = $state(5);
  loadS = $state(60);
  pauseS = $state(10);
  strangler = $state<number | null>(null);

  constructor(private readonly panel: Panel) {
    this.rules = new Poll<ChaosRule[]>(panel.api, () => '/control/chaos/rules', 1_000);
    this.load = new Poll<LoadStatus>(panel.api, () => '/control/load', 1_000);
  }

  start(): () => void {
    const stops = [this.rules.start(), this.load.start()];
    this.panel.api
      .get<Scenario[] | { scenarios: Scenario[] }>('/control/chaos/scenarios')
      .then((s) => {
        const list = Array.isArray(s) ? s : s.scenarios;
        if (list?.length) this.scenarios = list;
      })
      .catch(() => {});
    this.panel.api
      .get<StranglerView>('/control/strangler')
      .then((s) => (this.strangler = s.weight))
      .catch(() => {});
    return () => stops.forEach((stop) => stop());
  }

  async runScenario(name: string): Promise<void> {
    await this.panel.act(`scenario ${name} started for ${this.scenarioS} s`, () => this.panel.api.post(`/control/chaos/scenarios/${encodeURIComponent(name)}`, { durationMs: this.scenarioS * 1000 }));
    void this.rules.refresh();
  }

  async addRule(): Promise<void> {
    const { rule, problems } = ruleFromForm(this.form);
    this.formProblems = problems;
    if (!rule) return;
    const made = await this.panel.act(`rule added: ${rule.kind}`, () => this.panel.api.post<ChaosRule>('/control/chaos/rules', rule satisfies NewChaosRule));
    if (made) void this.rules.refresh();
  }

  async removeRule(id: string): Promise<void> {
    await this.panel.act(`rule ${id} removed`, () => this.panel.api.delete(`/control/chaos/rules/${encodeURIComponent(id)}`));
    void this.rules.refresh();
  }

  async clearRules(): Promise<void> {
    await this.panel.act('every rule removed', () => this.panel.api.delete('/control/chaos/rules'));
    void this.rules.refresh();
  }

  async process(name: string, action: 'kill' | 'restart'): Promise<void> {
    await this.panel.act(`${name}: ${action} sent`, () => this.panel.api.post(`/control/processes/${encodeURIComponent(name)}/${action}`));
    void this.panel.topology.refresh();
  }

  async pause(service: string): Promise<void> {
    await this.panel.act(`${service} paused for ${this.pauseS} s`, () => this.panel.api.post(`/control/services/${encodeURIComponent(service)}/pause`, { seconds: this.pauseS }));
    void this.rules.refresh();
  }

  async startLoad(): Promise<void> {
    await this.panel.act(`load: ${this.loadRate} orders/s for ${this.loadS} s`, () => this.panel.api.post('/control/load', { ratePerSec: this.loadRate, durationS: this.loadS }));
    void this.load.refresh();
  }

  async stopLoad(): Promise<void> {
    await this.panel.act('load stopped', () => this.panel.api.delete('/control/load'));
    void this.load.refresh();
  }

  async setStrangler(weight: number): Promise<void> {
    const view = await this.panel.act(`strangler weight ${weight}%`, () => this.panel.api.put<StranglerView>('/control/strangler', { weight }));
    if (view) this.strangler = view.weight;
  }
}
