/**
 * The Orders view's state: the catalogue (through the gateway, as a shopper sees it), placing an order with an
 * Idempotency-Key, and following each placed order until its saga settles it (confirmed or cancelled) and the
 * notifications service has recorded its one notice.
 */
import type { CatalogueItem, Notice, NoticePage, OrderAccepted, OrderDetail } from '../api/types.ts';
import type { Panel } from './panel.svelte.ts';

/** `notice`: the customer notice the notifications service recorded once the order settled (null until then). */
export type PlacedOrder = { orderId: string; placedAt: number; detail: OrderDetail | null; error: string | null; notice: Notice | null };

export type OrderDraft = { name: string; email: string; sku: string; qty: number; line1: string; city: string; country: string };

const SETTLED = new Set(['confirmed', 'cancelled']);

export class OrdersState {
  catalogue = $state.raw<CatalogueItem[]>([]);
  catalogueError = $state<string | null>(null);
  placed = $state<PlacedOrder[]>([]);
  placing = $state(false);
  draft = $state<OrderDraft>({ name: 'Ada Lovelace', email: 'ada@example.com', sku: '', qty: 1, line1: '12 St James Square', city: 'London', country: 'GB' });
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly panel: Panel) {}

  async loadCatalogue(): Promise<void> {
    try {
      const res = await this.panel.api.get<{ items: CatalogueItem[] }>('/api/catalogue');
      this.catalogue = res.items;
      this.catalogueError = null;
      if (!this.draft.sku && res.items.length) this.draft.sku = (res.items.find((i) => i.available > 10) ?? res.items[0]!).sku;
    } catch (error) {
      this.catalogueError = error instanceof Error ? error.message : String(error);
    }
  }

  async place(): Promise<string | null> {
    this.placing = true;
    try {
      const d = this.draft;
      const body = { customer: { name: d.name, email: d.email }, lines: [{ sku: d.sku, qty: Number(d.qty) }], address: { name: d.name, line1: d.line1, city: d.city, country: d.country } };
      const key = `panel-${crypto.randomUUID()}`;
      const accepted = await this.panel.act('order placed', () => this.panel.api.call<OrderAccepted>('POST', '/api/orders', body, { 'idempotency-key': key }));
      if (!accepted) return null;
      this.placed = [{ orderId: accepted.orderId, placedAt: Date.now(), detail: null, error: null, notice: null }, ...this.placed].slice(0, 20);
      this.follow(accepted.orderId);
      return accepted.orderId;
    } finally {
      this.placing = false;
    }
  }

  /** Polls the order until it is confirmed or cancelled (and its saga finished). */
  follow(orderId: string, delayMs = 300): void {
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      const i = this.placed.findIndex((p) => p.orderId === orderId);
      if (i < 0) return;
      try {
        const detail = await this.panel.api.get<OrderDetail>(`/api/orders/${encodeURIComponent(orderId)}`);
        this.placed[i] = { ...this.placed[i]!, detail, error: null };
        const done = SETTLED.has(detail.order.state) && (detail.saga?.status === 'completed' || detail.saga?.status === 'compensated');
        if (!done) this.follow(orderId, 700);
        else this.followNotice(orderId);
      } catch (error) {
        this.placed[i] = { ...this.placed[i]!, error: error instanceof Error ? error.message : String(error) };
        this.follow(orderId, 1500);
      }
    }, delayMs);
    this.timers.add(timer);
  }

  /** Polls the outbox until the settled order's notice is there (the subscriber follows the order log a moment later). */
  followNotice(orderId: string, delayMs = 300, tries = 40): void {
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      const page = await this.panel.api.get<NoticePage>(`/control/notifications?orderId=${encodeURIComponent(orderId)}`).catch(() => null);
      const i = this.placed.findIndex((p) => p.orderId === orderId);
      if (i < 0) return;
      const notice = page?.items[0] ?? null;
      if (notice) this.placed[i] = { ...this.placed[i]!, notice };
      else if (tries > 1) this.followNotice(orderId, 700, tries - 1);
    }, delayMs);
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
