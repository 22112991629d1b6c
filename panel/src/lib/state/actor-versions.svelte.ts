/**
 * Time travel in the Actors view: the selected actor's committed versions (what its history keeps, newest first)
 * and the one the scrubber points at, rebuilt by the control plane exactly as that version committed it. `viewing`
 * null means the live actor.
 */
import type { ActorHistoryPage, ActorSnapshotAt } from '../api/types.ts';
import type { Panel } from './panel.svelte.ts';

const path = (address: string) => `/control/actors/${address.split('/').map(encodeURIComponent).join('/')}`;

export class ActorVersionsState {
  history = $state.raw<ActorHistoryPage | null>(null);
  /** The version the scrubber shows, or null for the live actor. */
  viewing = $state<number | null>(null);
  snapshot = $state.raw<ActorSnapshotAt | null>(null);
  error = $state<string | null>(null);
  private address: string | undefined;
  private readonly cache = new Map<number, ActorSnapshotAt>();

  constructor(private readonly panel: Panel) {}

  /** A new actor (or none): its versions are read afresh; `version` opens it at that one. */
  async open(address: string | undefined, version?: number): Promise<void> {
    if (address !== this.address) {
      this.address = address;
      this.history = null;
      this.cache.clear();
    }
    this.error = null;
    if (!address) return this.show(null);
    await this.refresh();
    await this.show(version ?? null);
  }

  /** Re-reads the list of versions (the actor moved on). */
  async refresh(): Promise<void> {
    const address = this.address;
    if (!address) return;
    try {
      const page = await this.panel.api.get<ActorHistoryPage>(`${path(address)}/history?limit=500`);
      if (address === this.address) this.history = page;
    } catch (error) {
      if (address === this.address) this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** Shows version `version` (null: live). */
  async show(version: number | null): Promise<void> {
    this.viewing = version;
    if (version === null) {
      this.snapshot = null;
      return;
    }
    const address = this.address!;
    const known = this.cache.get(version);
    if (known) {
      this.snapshot = known;
      return;
    }
    try {
      const at = await this.panel.api.get<ActorSnapshotAt>(`${path(address)}/at/${version}`);
      this.cache.set(version, at);
      if (address === this.address && this.viewing === version) {
        this.snapshot = at;
        this.error = null;
      }
    } catch (error) {
      if (address === this.address && this.viewing === version) {
        this.snapshot = null;
        this.error = error instanceof Error ? error.message : String(error);
      }
    }
  }
}
