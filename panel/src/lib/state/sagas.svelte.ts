/**
 * The Sagas view's state: a page of sagas by status (refreshed while open), one saga with its log (refreshed on
 * its `saga.step` events), the saga machine's graph (to name what each compensation does), and the faults near
 * its failures for linking cause to effect.
 */
import type { LiveEvent, MachineGraph, SagaPage, SagaStatus, SagaView } from '../api/types.ts';
import type { Panel } from './panel.svelte.ts';

export const STATUS_FILTERS: (SagaStatus | 'all')[] = ['all', 'running', 'compensating', 'completed', 'compensated', 'parked'];
const FAULT_TYPES = 'chaos.rule,chaos.injected,chaos.action,breaker.transition';

export class SagasState {
  filter = $state<SagaStatus | 'all'>('all');
  page = $state.raw<SagaPage | null>(null);
  listError = $state<string | null>(null);
  detail = $state.raw<SagaView | null>(null);
  detailError = $state<string | null>(null);
  graph = $state.raw<MachineGraph | null>(null);
  /** Fault events (chaos, breaker trips) from history and the live stream. */
  faults = $state.raw<LiveEvent[]>([]);
  private selected: string | undefined;
  private detailTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly panel: Panel) {}

  start(): () => void {
    const list = setInterval(() => void this.loadList(), 2_000);
    void this.loadList();
    void this.loadGraph();
    void this.loadFaults();
    const off = this.panel.live.subscribe((batch) => {
      const faults = batch.filter((e) => FAULT_TYPES.includes(e.type));
      if (faults.length) this.faults = [...this.faults, ...faults].slice(-1000);
      if (this.selected && batch.some((e) => e.type === 'saga.step' && e.sagaId === this.selected)) this.scheduleDetail(150);
    });
    return () => {
      clearInterval(list);
      clearTimeout(this.detailTimer);
      off();
    };
  }

  setFilter(filter: SagaStatus | 'all'): void {
    this.filter = filter;
    this.page = null;
    void this.loadList();
  }

  async loadList(): Promise<void> {
    const q = this.filter === 'all' ? '' : `&status=${this.filter}`;
    try {
      const page = await this.panel.api.get<SagaPage>(`/control/sagas?limit=100${q}`);
      // Newest first: a person looks for the saga they just caused.
      this.page = { ...page, items: [...page.items].sort((a, b) => b.startedAt - a.startedAt) };
      this.listError = null;
    } catch (error) {
      this.listError = error instanceof Error ? error.message : String(error);
    }
  }

  select(orderId: string | undefined): void {
    if (orderId === this.selected) return;
    this.selected = orderId;
    this.detail = null;
    this.detailError = null;
    clearTimeout(this.detailTimer);
    if (orderId) void this.loadDetail();
  }

  private scheduleDetail(ms: number): void {
    clearTimeout(this.detailTimer);
    this.detailTimer = setTimeout(() => void this.loadDetail(), ms);
  }

  async loadDetail(): Promise<void> {
    const orderId = this.selected;
    if (!orderId) return;
    try {
      const view = await this.panel.api.get<SagaView>(`/control/sagas/${encodeURIComponent(orderId)}`);
      if (orderId !== this.selected) return;
      this.detail = view;
      this.detailError = null;
      // Still moving: look again soon even if an event is missed.
      if (view.status === 'running' || view.status === 'compensating') this.scheduleDetail(1_500);
    } catch (error) {
      if (orderId !== this.selected) return;
      this.detailError = error instanceof Error ? error.message : String(error);
      this.scheduleDetail(2_000);
    }
  }

  async loadGraph(): Promise<void> {
    try {
      this.graph = await this.panel.api.get<MachineGraph>('/control/machines/order/fulfillment');
    } catch {
      this.graph = null;
    }
  }

  async loadFaults(): Promise<void> {
    try {
      const events = await this.panel.api.get<LiveEvent[] | { items: LiveEvent[] }>(`/control/events?type=${FAULT_TYPES}&limit=500`);
      const list = Array.isArray(events) ? events : events.items;
      const seen = new Set(this.faults.map((e) => e.id));
      this.faults = [...list.filter((e) => !seen.has(e.id)), ...this.faults].sort((a, b) => a.at - b.at).slice(-1000);
    } catch {
      // History is a help, not a need: the live stream still brings new faults.
    }
  }

  async retry(orderId: string): Promise<void> {
    await this.panel.act(`saga ${orderId}: retry asked`, () => this.panel.api.post(`/control/sagas/${encodeURIComponent(orderId)}/retry`));
    void this.loadDetail();
  }

  async resolve(orderId: string, note: string): Promise<void> {
    await this.panel.act(`saga ${orderId}: resolved by hand`, () => this.panel.api.post(`/control/sagas/${encodeURIComponent(orderId)}/resolve`, { note }));
    void this.loadDetail();
  }
}
