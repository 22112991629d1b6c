/**
 * Actors of a partition waiting for the retry of a failed message, and when each retry falls due. Until then the
 * actor is blocked: its later messages stay pending, in order, and the read holds its entries back.
 */
export class RetrySchedule {
  private readonly due = new Map<string, number>();

  schedule(address: string, at: number): void {
    this.due.set(address, at);
  }

  clear(address: string): void {
    this.due.delete(address);
  }

  isBlocked(address: string, now: number): boolean {
    const at = this.due.get(address);
    return at !== undefined && at > now;
  }

  /** The actors blocked now. */
  blocked(now: number): string[] {
    const out: string[] = [];
    for (const [address, at] of this.due) if (at > now) out.push(address);
    return out;
  }

  /** When the next retry falls due (Infinity when none is waiting). */
  nextDue(): number {
    let next = Infinity;
    for (const at of this.due.values()) next = Math.min(next, at);
    return next;
  }
}
