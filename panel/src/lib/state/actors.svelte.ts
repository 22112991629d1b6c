/**
 * The Actors view's state: a server-side search (service, type, id glob) paged by cursor as the list scrolls — so
 * 100,000 actors never come to the browser at once — and the selected actor, kept live from its `actor.transition`
 * events (state moves, transitions prepend) with a full re-read now and then.
 */
import type { ActorDetail, ActorPage, ActorSummary, TransitionRow } from '../api/types.ts';
import type { Panel } from './panel.svelte.ts';

export class ActorsState {
  service = $state('');
  type = $state('');
  q = $state('');
  items = $state.raw<ActorSummary[]>([]);
  cursor: string | null = null;
  done = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  detail = $state.raw<ActorDetail | null>(null);
  detailError = $state<string | null>(null);
  private generation = 0;
  private selected: string | undefined;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly panel: Panel) {}

  start(): () => void {
    void this.search();
    const off = this.panel.live.subscribe((batch) => {
      if (!this.selected || !this.detail) return;
      const mine = batch.filter((e): e is TransitionRow & { id: string } => e.type === 'actor.transition' && e.actor === this.selected);
      if (mine.length === 0) return;
      const last = mine[mine.length - 1]!;
      this.detail = { ...this.detail, state: last.to, transitions: [...mine.reverse(), ...this.detail.transitions].slice(0, 50) };
    });
    this.refreshTimer = setInterval(() => void this.loadDetail(), 5_000);
    return () => {
      off();
      clearInterval(this.refreshTimer);
      clearTimeout(this.searchTimer);
    };
  }

  /** A new search after typing stops for a moment. */
  searchSoon(): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.search(), 250);
  }

  async search(): Promise<void> {
    this.generation++;
    this.items = [];
    this.cursor = null;
    this.done = false;
    this.loading = false; // a page still in flight belongs to the previous search
    await this.more();
  }

  async more(): Promise<void> {
    if (this.loading || this.done) return;
    const generation = this.generation;
    this.loading = true;
    const params = new URLSearchParams({ limit: '200' });
    if (this.service) params.set('service', this.service);
    if (this.type.trim()) params.set('type', this.type.trim());
    if (this.q.trim()) params.set('q', this.q.trim());
    if (this.cursor) params.set('cursor', this.cursor);
    try {
      const page = await this.panel.api.get<ActorPage>(`/control/actors?${params}`);
      if (generation !== this.generation) return;
      const seen = new Set(this.items.map((i) => i.address));
      this.items = [...this.items, ...page.items.filter((i) => !seen.has(i.address))];
      this.cursor = page.cursor;
      this.done = page.cursor === null;
      this.error = null;
    } catch (error) {
      if (generation === this.generation) this.error = error instanceof Error ? error.message : String(error);
      this.done = true;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  select(address: string | undefined): void {
    if (address === this.selected) return;
    this.selected = address;
    this.detail = null;
    this.detailError = null;
    if (address) void this.loadDetail();
  }

  async loadDetail(): Promise<void> {
    const address = this.selected;
    if (!address) return;
    try {
      const detail = await this.panel.api.get<ActorDetail>(`/control/actors/${address.split('/').map(encodeURIComponent).join('/')}`);
      if (address === this.selected) {
        this.detail = detail;
        this.detailError = null;
      }
    } catch (error) {
      if (address === this.selected) this.detailError = error instanceof Error ? error.message : String(error);
    }
  }
}
