/**
 * Background writes (usage records, rate-limit counters) that must end before the work that started them is over:
 * Lambda freezes an execution environment as soon as an invocation ends, and may never thaw it.
 */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  add = (work: Promise<unknown>): void => {
    const tracked: Promise<unknown> = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  };

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
