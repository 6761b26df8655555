/**
 * The exact-match classification cache: a SHA-256 of (model version, the exact texts, every parameter that changes
 * the answer, and for a tenant's fine-tuned model its owner) → the ranked answer. The key is all that is kept of
 * the texts: the stored answer has no text in it (an explanation's words are kept as offsets and read back from the
 * request's own texts on a hit). Each runtime brings its store (node/: an LRU in memory; worker/: the Cache API).
 */
import type { Context } from 'hono';
import type { ExplainedLabelScore } from './explanations.js';
import type { AppEnv } from '../http/request-context.js';

/** What the cache keeps of one answer: per text its ranked labels, whether it was cut, and the tokens it cost. */
export interface CachedClassification {
  /** Per text, its labels best first; an explanation's words without their `text` (start/end say where it is). */
  results: ExplainedLabelScore[][];
  truncated: boolean[];
  /** Tokens the model read for the answer, an explanation's included (what the answer's usage reports). */
  inputTokens: number;
  explanationTokens?: number;
}

/**
 * A runtime's store of answers by key. A failing store is a miss (get) or a lost entry (put), never a failed request.
 * `requestUrl` is the URL of the request being answered: the Cache API keys its entries under that host.
 */
export interface ClassificationCache {
  get(key: string, requestUrl: string): Promise<CachedClassification | undefined>;
  put(key: string, value: CachedClassification, requestUrl: string): Promise<void>;
}

/** Marked on every classification of a deployment with a cache (X-Cache): answered from it, stored in it, or neither. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';
export const CACHE_HEADER = 'X-Cache';

/** Everything that decides an answer. `scope` keeps tenants apart: "shared" for registry models. */
export interface CacheKeyParts {
  /** id@version, and the sha256 of its ONNX file where the registry lists one (a re-export under one version misses). */
  model: string;
  weights: string | null;
  scope: string;
  texts: string[];
  topK: number;
  scoreFunction: string;
  explain: { method: string; labels: string } | null;
}

const utf8 = new TextEncoder();
const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** The key: SHA-256 (Web Crypto, in Node and workerd alike) of the parts as JSON, so no two part lists share one. */
export async function classificationKey(parts: CacheKeyParts): Promise<string> {
  const canonical = JSON.stringify(['classify-v1', parts.model, parts.weights, parts.scope, parts.topK, parts.scoreFunction,
    parts.explain && [parts.explain.method, parts.explain.labels], parts.texts]);
  return hex(await crypto.subtle.digest('SHA-256', utf8.encode(canonical)));
}

/** The answer without the caller's words: an explanation keeps each word's offsets, not the word. */
export function withoutTexts(results: ExplainedLabelScore[][]): ExplainedLabelScore[][] {
  return results.map((ranked) => ranked.map((scored) => (scored.explanation
    ? { ...scored, explanation: { ...scored.explanation, words: scored.explanation.words.map((word) => ({ ...word, text: '' })) } }
    : scored)));
}

/** A stored answer with its words read back from the texts it was asked for (the key guarantees the same texts). */
export function withTexts(results: ExplainedLabelScore[][], texts: string[]): ExplainedLabelScore[][] {
  return results.map((ranked, i) => ranked.map((scored) => (scored.explanation
    ? { ...scored, explanation: { ...scored.explanation, words: scored.explanation.words.map((word) => ({ ...word, text: texts[i]!.slice(word.start, word.end) })) } }
    : scored)));
}

/**
 * Runs `work` after the answer where the runtime can (the Worker's waitUntil: a Cache API put need not delay the
 * response), else lets it run on (Node keeps running it); a failure is logged, never thrown.
 */
export function afterAnswer(c: Context<AppEnv>, work: Promise<unknown>): void {
  const logged = work.catch((error: unknown) => console.error(`classification cache: ${error instanceof Error ? error.message : String(error)}`));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // Node and Lambda have no ExecutionContext (Hono throws): the promise runs on by itself.
  }
}
