// What a key's requests were metered with at the edge: its object (KeyRateLimiter) counts them and writes roll-ups
// to D1 with its alarm, so a test runs that alarm and sums the key's rows. A request's own record is the change in
// these sums around it (its record arrives after its answer, through waitUntil: `meteredAfter` waits for it).
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import type { D1Database } from '../../functions/worker/d1-database.js';
import type { DurableObjectNamespaceLike } from '../../functions/worker/key-rate-limiter.js';

declare module 'cloudflare:test' {
  export function runDurableObjectAlarm(stub: unknown): Promise<boolean>;
}

const bindings = env as { DB: D1Database; RATE_LIMITER: DurableObjectNamespaceLike };

export interface KeyUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

/** The key's id from the key itself (its 12-character lookup prefix). */
export async function keyIdOf(key: string): Promise<string> {
  const row = (await bindings.DB.prepare('SELECT id FROM api_keys WHERE prefix = ?').bind(key.slice(0, 12)).all<{ id: string }>()).results[0];
  if (!row) throw new Error('no such key');
  return row.id;
}

/** The key's object's pending roll-up written, then the key's rows summed (optionally: only those matching `where`). */
export async function meteredUsage(keyId: string, where = '1 = 1', ...params: unknown[]): Promise<KeyUsage> {
  await runDurableObjectAlarm(bindings.RATE_LIMITER.get(bindings.RATE_LIMITER.idFromName(keyId)));
  const [row] = (await bindings.DB.prepare(`SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens,
      COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost FROM usage WHERE key_id = ? AND ${where}`)
    .bind(keyId, ...params).all<{ requests: number; input_tokens: number; output_tokens: number; cost: number }>()).results;
  return { requests: row!.requests, inputTokens: row!.input_tokens, outputTokens: row!.output_tokens, costMicroUsd: row!.cost };
}

/** What the key's next `n` requests after `before` were metered with, once their records arrived. */
export async function meteredAfter(keyId: string, before: KeyUsage, n = 1, where?: string, ...params: unknown[]): Promise<KeyUsage> {
  let now = await meteredUsage(keyId, where, ...params);
  for (let i = 0; i < 100 && now.requests < before.requests + n; i++) {
    await new Promise((r) => setTimeout(r, 20));
    now = await meteredUsage(keyId, where, ...params);
  }
  return {
    requests: now.requests - before.requests, inputTokens: now.inputTokens - before.inputTokens,
    outputTokens: now.outputTokens - before.outputTokens, costMicroUsd: now.costMicroUsd - before.costMicroUsd,
  };
}
