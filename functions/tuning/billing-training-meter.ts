/**
 * Fine-tuning's TrainingMeter over billing's store and usage writer: a keyed job reserves its maximum cost of the
 * key's monthly budget (a budget hold with the usage record's id, as a request's admission does), and its one usage
 * record, written when the job ends, settles that hold. Open-mode jobs (no key) only record.
 */
import type { BillingStore } from '../billing/types.js';
import type { UsageSink } from '../billing/usage-writer.js';
import { ApiError } from '../http/errors.js';
import type { TrainingCharge, TrainingMeter } from './training-meter.js';
import { formatUsd } from '../billing/usd.js';

export interface BillingTrainingMeterOptions {
  store: BillingStore;
  writer: UsageSink;
  /** Milliseconds, as billing's records count time. */
  now?: () => number;
}

export class BillingTrainingMeter implements TrainingMeter {
  private readonly now: () => number;
  /**
   * What each job in this process reserved, for its record's heldMicroUsd: the SQL store releases a hold by id, but
   * DynamoDB's spend counter subtracts the amount. A job settled by a restarted process gives 0 there (its hold then
   * stays counted in DynamoDB until the month ends; SQLite drops it by id, or after 15 minutes).
   */
  private readonly held = new Map<string, number>();

  constructor(private readonly o: BillingTrainingMeterOptions) {
    this.now = o.now ?? (() => Date.now());
  }

  async reserve(charge: TrainingCharge, costMicroUsd: number, trainedTokens: number): Promise<void> {
    if (charge.keyId === null || costMicroUsd <= 0) return;
    const key = await this.o.store.keyById(charge.keyId);
    const budget = key?.monthlyBudgetMicroUsd ?? null;
    if (budget === null) return;
    const held = await this.o.store.holdBudget({ id: charge.usageId, keyId: charge.keyId, microUsd: costMicroUsd, budgetMicroUsd: budget, at: this.now() });
    if (!held) {
      throw new ApiError(402, `training ${trainedTokens} tokens on ${charge.model.id}@${charge.model.version} may cost up to ${costMicroUsd} micro-USD, more than is left of this key's monthly budget of ${formatUsd(budget)}; it renews on the 1st (UTC) (fewer rows or a lower n_epochs costs less)`,
        'billing_error', 'budget_exhausted');
    }
    this.held.set(charge.usageId, costMicroUsd);
  }

  async settle(charge: TrainingCharge, usage: { trainedTokens: number; costMicroUsd: number; status: number; computeMs: number }): Promise<void> {
    const written = this.o.writer.record({
      id: charge.usageId, requestId: charge.jobId, keyId: charge.keyId,
      // Billing counts open-mode use without a tenant, as its middleware does.
      tenantId: charge.keyId === null ? null : charge.tenantId,
      model: charge.model.id, modelVersion: charge.model.version, path: 'edge', route: `fine-tuning job ${charge.jobId}`,
      inputTokens: usage.trainedTokens, outputTokens: 0, computeMs: Math.round(usage.computeMs * 1000) / 1000,
      // The job service prices what is billed: a failed job 0, a cancelled one the epochs it completed.
      status: usage.status, costMicroUsd: usage.costMicroUsd,
      idempotentReplay: false, createdAt: this.now(), heldMicroUsd: this.held.get(charge.usageId) ?? 0,
    });
    this.held.delete(charge.usageId);
    await written;
  }
}
