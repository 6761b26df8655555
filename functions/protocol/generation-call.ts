/**
 * A TextGenerator's call in OpenAI's terms, as the router's and the generation server's generators take it: the
 * validated request for a backend that reads it (the local engine), the JSON object as the client sent it for one
 * that forwards it (an upstream keeps fields this server's schema does not know), and the client's signal.
 */
import type { TextGenerator } from '../engine/tasks/text-generator.js';
import type { ApiKind } from './completion-shapes.js';
import type { ChatCompletionRequest, CompletionRequest } from './openai-schemas.js';

/** A request validated by its kind's schema. */
export type ValidatedGeneration = { kind: 'completion'; request: CompletionRequest } | { kind: 'chat'; request: ChatCompletionRequest };

/** `region`: the jurisdiction the call is pinned to (its privacy policy); a forwarding generator sends it nowhere else. */
export type GenerationCall = ValidatedGeneration & { body: Record<string, unknown>; signal: AbortSignal; region?: string };

export type OpenAiGenerator = TextGenerator<GenerationCall>;

/** Each kind's path under /v1. */
export const API_PATHS = { completion: '/completions', chat: '/chat/completions' } as const satisfies Record<ApiKind, string>;
