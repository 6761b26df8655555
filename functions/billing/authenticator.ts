/**
 * Finds the key record for a presented API key, or throws the BillingError that refuses it. Records are cached for
 * `cacheMs` (revocations through the admin API of this process apply at once; through another process within `cacheMs`).
 */
import { hashKey, keyPrefix, looksLikeKey, sameHash } from './api-keys.js';
import { BillingError } from './billing-errors.js';
import type { ApiKeyRecord, BillingStore } from './types.js';

const notValid = () => new BillingError('key_invalid', 'the API key is not valid');

export class Authenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord | null; at: number }>();
  private readonly hashes = new Map<string, string>();

  constructor(private readonly store: BillingStore, private readonly cacheMs = 2_000, private readonly now: () => number = () => Date.now()) {}

  forget(prefix?: string): void {
    if (prefix === undefined) this.cache.clear();
    else this.cache.delete(prefix);
  }

  async authenticate(presented: string | null): Promise<ApiKeyRecord> {
    if (!presented) throw new BillingError('key_missing', 'send an API key: "Authorization: Bearer <key>" or "x-api-key: <key>"');
    if (!looksLikeKey(presented)) throw notValid();
    const prefix = keyPrefix(presented);
    let cached = this.cache.get(prefix);
    if (!cached || this.now() - cached.at > this.cacheMs) {
      cached = { record: await this.store.keyByPrefix(prefix), at: this.now() };
      this.cache.set(prefix, cached);
    }
    const record = cached.record;
    let hash = this.hashes.get(presented);
    if (!hash) {
      hash = await hashKey(presented);
      if (this.hashes.size > 10_000) this.hashes.clear();
      this.hashes.set(presented, hash);
    }
    if (!record || !sameHash(hash, record.keyHash)) throw notValid();
    if (record.status !== 'active') throw new BillingError(`key_${record.status}`, `the API key is ${record.status}`);
    return record;
  }
}
