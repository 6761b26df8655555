/**
 * The most a request can use, computed from the request alone before a model runs, so that admission can reserve
 * it (rate limits and budgets are then exact under concurrency) and settle the difference when the request ends.
 */
import type { ModelEntry } from './registry.js';
import type { UsageEstimate } from '../http/request-context.js';
import { cacheHitCostMicroUsd, costMicroUsd } from './pricing.js';

const utf8 = new TextEncoder();

/**
 * WordPiece gives at most one token per character, plus [CLS] and [SEP], and stops at the model's limit. Where the
 * classifier counts its tokens exactly (`counted`: a model that reads long texts in windows goes past max_tokens),
 * that count is the estimate.
 */
export function classificationEstimate(model: ModelEntry, texts: string[], counted?: number[]): UsageEstimate {
  const tokens = counted
    ? counted.reduce((sum, n) => sum + n, 0)
    : texts.reduce((sum, text) => sum + Math.min(model.maxTokens, text.length + 2), 0);
  const estimate: UsageEstimate = { tokens, costMicroUsd: costMicroUsd(model.price, tokens, 0) };
  // Counted tokens are the tokens the model reads: the record is known before it runs (billing may record it then).
  if (counted) estimate.served = { model: model.id, modelVersion: model.version, path: 'edge', inputTokens: tokens, outputTokens: 0, cacheHit: false };
  return estimate;
}

/** A classification the cache answers: the tokens its answer reports, at the model's cache price (pricing.ts). */
export function cachedClassificationEstimate(model: ModelEntry, tokens: number): UsageEstimate {
  return { tokens, costMicroUsd: cacheHitCostMicroUsd(model.price), served: { model: model.id, modelVersion: model.version, path: 'edge', inputTokens: tokens, outputTokens: 0, cacheHit: true } };
}

/**
 * What a chat template adds, generously: per message (role name, separators) and once (a default system prompt such
 * as Qwen's, the generation prompt). The plain "System: …\n\nUser: …" template stays well inside it.
 */
const CHAT_TOKENS_PER_MESSAGE = 32;
const CHAT_TOKENS_FIXED = 64;
/** BOS, the space SentencePiece-style tokenizers prepend, and what other tokenizers add around a prompt. */
const PROMPT_SPECIAL_TOKENS = 8;

/** Byte-level and byte-fallback BPE give at most one token per UTF-8 byte; the rest is the template's and specials'. */
export function promptTokenBound(parts: string[], chat: boolean): number {
  const bytes = parts.reduce((sum, part) => sum + utf8.encode(part).length, 0);
  return bytes + PROMPT_SPECIAL_TOKENS + (chat ? CHAT_TOKENS_FIXED + parts.length * CHAT_TOKENS_PER_MESSAGE : 0);
}

export function generationEstimate(model: ModelEntry, promptTokens: number, maxOutputTokens: number): UsageEstimate {
  return { tokens: promptTokens + maxOutputTokens, costMicroUsd: costMicroUsd(model.price, promptTokens, maxOutputTokens), lowerWith: 'max_tokens' };
}
