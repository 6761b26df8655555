/**
 * Monthly budgets per key. The month's spend is read from the store once per key and month, then kept up to
 * date in memory as requests are metered here, so the check costs nothing on the hot path and counts records
 * not yet written.
 */
import type { BillingStore } from './types.js';

export const monthStart = (now: number) => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

export class BudgetGuard {
  private readonly spent = new Map<string, Promise<number> | number>();

  constructor(private readonly store: BillingStore) {}

  private slot(keyId: string, now: number): string {
    return `${keyId}@${monthStart(now)}`;
  }

  async spentThisMonth(keyId: string, now: number): Promise<number> {
    const slot = this.slot(keyId, now);
    let spent = this.spent.get(slot);
    if (spent === undefined) {
      spent = this.store.spentSince(keyId, monthStart(now));
      this.spent.set(slot, spent);
      this.spent.set(slot, await spent);
    }
    return spent;
  }

  async add(keyId: string, now: number, cost: number): Promise<void> {
    const slot = this.slot(keyId, now);
    const current = await this.spentThisMonth(keyId, now);
    this.spent.set(slot, ((this.spent.get(slot) as number | undefined) ?? current) + cost);
  }
}
