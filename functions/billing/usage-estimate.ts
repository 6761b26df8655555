/**
 * The most a request can use, computed from the request alone before a model runs, so that admission can reserve
 * it (rate limits and budgets are then exact under concurrency) and settle the difference when the request ends.
 */
import type { ModelEntry } from '../engine/registry/registry.js';
import type { UsageEstimate } from '../app/context.js';
import { costMicroUsd } from './pricing.js';

const utf8 = new TextEncoder();

/** WordPiece gives at most one token per character, plus [CLS] and [SEP], and stops at the model's limit. */
export function classificationEstimate(model: ModelEntry, texts: string[]): UsageEstimate {
  const tokens = texts.reduce((sum, text) => sum + Math.min(model.maxTokens, text.length + 2), 0);
  return { tokens, costMicroUsd: costMicroUsd(model.price, tokens, 0) };
}

/** Per message, what a chat template adds around its content (role names, separators), generously. */
const CHAT_OVERHEAD_TOKENS = 16;

/** Byte-level and byte-fallback BPE give at most one token per UTF-8 byte, plus BOS. */
export function promptTokenBound(parts: string[], chat: boolean): number {
  return parts.reduce((sum, part) => sum + utf8.encode(part).length + (chat ? CHAT_OVERHEAD_TOKENS : 0), 0) + 1;
}

export function generationEstimate(model: ModelEntry, promptTokens: number, maxOutputTokens: number): UsageEstimate {
  return { tokens: promptTokens + maxOutputTokens, costMicroUsd: costMicroUsd(model.price, promptTokens, maxOutputTokens) };
}
