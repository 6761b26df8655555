/**
 * Finds the key record for a presented API key. Records are cached for `cacheMs` (revocations through the admin
 * API of this process apply at once; through another process within `cacheMs`).
 */
import { hashKey, keyPrefix, looksLikeKey, sameHash } from './api-keys.js';
import type { ApiKeyRecord, BillingStore } from './types.js';

export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; status: 401 | 403; message: string; code: string };

export class Authenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord | null; at: number }>();
  private readonly hashes = new Map<string, string>();

  constructor(private readonly store: BillingStore, private readonly cacheMs = 2_000, private readonly now: () => number = () => Date.now()) {}

  forget(prefix?: string): void {
    if (prefix === undefined) this.cache.clear();
    else this.cache.delete(prefix);
  }

  async authenticate(presented: string | null): Promise<AuthResult> {
    if (!presented) return { ok: false, status: 401, code: 'missing_api_key', message: 'send an API key: "Authorization: Bearer <key>" or "x-api-key: <key>"' };
    if (!looksLikeKey(presented)) return { ok: false, status: 401, code: 'invalid_api_key', message: 'the API key is not valid' };
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
    if (!record || !sameHash(hash, record.keyHash)) return { ok: false, status: 401, code: 'invalid_api_key', message: 'the API key is not valid' };
    if (record.status !== 'active') return { ok: false, status: 403, code: `key_${record.status}`, message: `the API key is ${record.status}` };
    return { ok: true, key: record };
  }
}
