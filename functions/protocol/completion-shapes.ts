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

export interface WholeAnswer {
  text: string;
  finish: ApiFinish;
  usage: Usage;
}

export function fullResponse(kind: ApiKind, meta: ResponseMeta, { text, finish, usage }: WholeAnswer) {
  if (kind === 'completion') {
    return { ...meta, object: 'text_completion', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], usage };
  }
  return {
    ...meta, object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }], usage,
  };
}

export interface ChunkParts {
  /** Generated text; or, on chat's first chunk, `role` (the assistant's role, empty content). */
  text?: string;
  role?: boolean;
  /** On the last chunk. */
  finish?: ApiFinish;
  /** Left out when undefined; null with include_usage; the usage so far with vLLM's continuous_usage_stats. */
  usage?: Usage | null;
}

/** One streamed chunk. */
export function chunk(kind: ApiKind, meta: ResponseMeta, { text, role, finish = null, usage: usageField }: ChunkParts) {
  const usage = usageField === undefined ? {} : { usage: usageField };
  if (kind === 'completion') {
    return { ...meta, object: 'text_completion', choices: [{ index: 0, text: text ?? '', logprobs: null, finish_reason: finish }], ...usage };
  }
  const content = role ? { role: 'assistant', content: '' } : text !== undefined ? { content: text } : {};
  return { ...meta, object: 'chat.completion.chunk', choices: [{ index: 0, delta: content, logprobs: null, finish_reason: finish }], ...usage };
}

/** The final chunk with stream_options.include_usage: no choices, the request's usage. */
export function usageChunk(kind: ApiKind, meta: ResponseMeta, usage: Usage) {
  return { ...meta, object: kind === 'completion' ? 'text_completion' : 'chat.completion.chunk', choices: [], usage };
}
