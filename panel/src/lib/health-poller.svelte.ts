/**
 * The panel's view of the system's health, kept fresh: polls the control plane (`/control/processes`) and the
 * gateway (`/api/health`) through the dev server's proxies, and remembers when either could not be reached.
 */
import { toHealthRows, type HealthRow, type ProcessHealth } from './process-health.ts';

export class HealthPoller {
  rows = $state<HealthRow[]>([]);
  controlError = $state<string | null>(null);
  gatewayUp = $state<boolean | null>(null);
  checkedAt = $state<Date | null>(null);
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly intervalMs = 2000) {}

  async refresh(): Promise<void> {
    const [control, gateway] = await Promise.allSettled([
      fetch('/control/processes', { signal: AbortSignal.timeout(3000) }),
      fetch('/api/health', { signal: AbortSignal.timeout(3000) }),
    ]);
    if (control.status === 'fulfilled' && control.value.ok) {
      this.rows = toHealthRows((await control.value.json()) as ProcessHealth[]);
      this.controlError = null;
    } else {
      this.controlError = control.status === 'rejected' ? String(control.reason) : `control plane answered ${control.value.status}`;
    }
    this.gatewayUp = gateway.status === 'fulfilled' && gateway.value.ok;
    this.checkedAt = new Date();
  }

  start(): () => void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    return () => clearInterval(this.timer);
  }
}
