/**
 * One keyed request's admission: its rate limits and budget checked and its maximum use reserved in one step, so
 * that concurrent requests (in this process or another that shares the store) cannot overspend; the reservation is
 * settled against what the request used when it ends. A refusal is a BillingError that carries the limit decision.
 */
import type { UsageEstimate } from '../http/request-context.js';
import { BillingError } from './billing-errors.js';
import { formatUsd } from './usd.js';
import type { KeyLimiter, LimitDecision, Limits, Settlement } from './rate-limiter.js';
import type { ApiKeyRecord, BillingStore, UsageRecord } from './types.js';

export interface KeyAdmissionOptions {
  limiter: KeyLimiter;
  store: BillingStore;
  key: ApiKeyRecord;
  /** The request's usage record, which settles its budget hold. */
  usageId: string;
  at: number;
}

export class KeyAdmission {
  /** The limiter's decision for this request (its rate-limit headers); null until the limiter answered. */
  decision: LimitDecision | null = null;
  /** Budget reserved for this request, released when its usage record is written. */
  heldMicroUsd = 0;
  /**
   * The usage record the limiter counted with the admission (the request as served, status 200), where it records
   * at admission: the request's end then sends nothing unless its record differs (a correction that cancels this).
   */
  recorded: UsageRecord | null = null;
  private readonly limits: Limits;
  private taken = false;
  private reservedTokens = 0;

  constructor(private readonly o: KeyAdmissionOptions) {
    this.limits = { rpm: o.key.rpm, tpm: o.key.tpm };
  }

  /**
   * `served`: the request's record as it will be if served as admitted, `refused`: as it will be if the limiter
   * refuses it (429), for a limiter that records at admission.
   */
  async admit(estimate: UsageEstimate, served?: UsageRecord, refused?: UsageRecord): Promise<void> {
    const { key, usageId, at } = this.o;
    const budget = key.monthlyBudgetMicroUsd;
    const hold = budget === null || estimate.costMicroUsd <= 0 ? null : { id: usageId, keyId: key.id, microUsd: estimate.costMicroUsd, budgetMicroUsd: budget, at };
    // A limiter that holds budgets (the edge's key objects) reserves the hold with the rate limits, in one call; one
    // that records at admission counts the record in that call too, in place of the hold.
    const together = hold !== null && this.o.limiter.holdsBudgets === true;
    const atAdmission = this.o.limiter.recordsAtAdmission === true;
    const record = atAdmission ? served : undefined;
    const decision = await this.o.limiter.take(key.id, this.limits, estimate.tokens, together ? hold : undefined, record, atAdmission ? refused : undefined);
    this.decision = decision;
    if (!decision.allowed) {
      if (refused && decision.recorded === true) this.recorded = refused;
      throw new BillingError('rate_limited', `rate limit reached for this key (${key.rpm} requests and ${key.tpm} tokens per minute); retry after ${decision.retryAfterSeconds} s`, { limit: decision });
    }
    this.taken = true;
    this.reservedTokens = estimate.tokens;
    if (record && decision.recorded === true) {
      this.recorded = record;
      return;
    }
    if (hold === null) return;
    if (!(together ? decision.held === true : await this.o.store.holdBudget(hold))) {
      const lower = estimate.lowerWith ? ` (a lower ${estimate.lowerWith} costs less)` : '';
      throw new BillingError('budget_exhausted', `this request may cost up to ${estimate.costMicroUsd} micro-USD, more than is left of this key's monthly budget of ${formatUsd(budget!)}; it renews on the 1st (UTC)${lower}`, { limit: decision });
    }
    this.heldMicroUsd = estimate.costMicroUsd;
  }

  /** A request answered before admission (a bad request): it counts against the key's requests, and is never refused now. */
  async count(record?: UsageRecord): Promise<void> {
    const counted = this.o.limiter.recordsAtAdmission === true ? record : undefined;
    const decision = await this.o.limiter.take(this.o.key.id, this.limits, 0, undefined, counted, counted);
    this.decision = decision;
    this.taken = decision.allowed;
    if (counted && decision.recorded === true) this.recorded = counted;
  }

  /** What settles the request's tokens in place of its reservation; null when it took none. */
  settlement(usedTokens: number): Settlement | null {
    if (!this.taken) return null;
    return { key: this.o.key.id, limits: this.limits, used: usedTokens, reserved: this.reservedTokens, takenAt: this.o.at };
  }

  /** The request's tokens in place of its reservation; a promise for the request's waitUntil where the limiter gives one. */
  settle(usedTokens: number): void | Promise<unknown> {
    const settlement = this.settlement(usedTokens);
    if (settlement) return this.o.limiter.settle(settlement);
  }
}
