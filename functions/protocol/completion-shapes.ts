/** The response and stream-chunk shapes of OpenAI's completions and chat completions, as vLLM sends them. */
import type { FinishReason } from '../engine/generation/generation-engine.js';

export type ApiKind = 'completion' | 'chat';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const usageOf = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

type ApiFinish = Exclude<FinishReason, 'cancelled'> | null;

export function fullResponse(kind: ApiKind, meta: ResponseMeta, text: string, finish: ApiFinish, usage: Usage) {
  if (kind === 'completion') {
    return { ...meta, object: 'text_completion', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], usage };
  }
  return {
    ...meta, object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }], usage,
  };
}

/**
 * One streamed chunk: text (or the chat role on the first chunk) and, on the last, the finish reason. `usage`:
 * left out when undefined; null with include_usage; the usage so far with vLLM's continuous_usage_stats.
 */
export function chunk(kind: ApiKind, meta: ResponseMeta, delta: { text?: string; role?: boolean }, finish: ApiFinish, usageField?: Usage | null) {
  const usage = usageField === undefined ? {} : { usage: usageField };
  if (kind === 'completion') {
    return { ...meta, object: 'text_completion', choices: [{ index: 0, text: delta.text ?? '', logprobs: null, finish_reason: finish }], ...usage };
  }
  const content = delta.role ? { role: 'assistant', content: '' } : delta.text !== undefined ? { content: delta.text } : {};
  return { ...meta, object: 'chat.completion.chunk', choices: [{ index: 0, delta: content, logprobs: null, finish_reason: finish }], ...usage };
}

/** The final chunk with stream_options.include_usage: no choices, the request's usage. */
export function usageChunk(kind: ApiKind, meta: ResponseMeta, usage: Usage) {
  return { ...meta, object: kind === 'completion' ? 'text_completion' : 'chat.completion.chunk', choices: [], usage };
}
