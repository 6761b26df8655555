/**
 * How a job's training is billed, injected by the entry (billing lives below, in functions/billing/): the job's
 * maximum cost is reserved of the caller's key budget while it runs, and its usage record (trained tokens at the
 * base model's price) is written when it ends, which releases the reservation. In open mode both only record.
 */
export interface TrainingCharge {
  /** The usage record's id, which is also the budget hold's. */
  usageId: string;
  jobId: string;
  tenantId: string;
  keyId: string | null;
  /** The base model (id, version) whose price applies. */
  model: { id: string; version: string };
}

export interface TrainingMeter {
  /** Reserves costMicroUsd of the key's monthly budget; throws the 402 ApiError when it does not fit. */
  reserve(charge: TrainingCharge, costMicroUsd: number, trainedTokens: number): Promise<void>;
  /** Writes the job's usage record; status 200 for a succeeded job, the job's error status otherwise. */
  settle(charge: TrainingCharge, usage: { trainedTokens: number; costMicroUsd: number; status: number; computeMs: number }): Promise<void>;
}
