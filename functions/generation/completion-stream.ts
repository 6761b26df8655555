/**
 * A generation's answer as server-sent events, as vLLM streams it: chat's role chunk first, a chunk for each piece
 * of text as it becomes final, the finish chunk, the usage chunk with include_usage, then [DONE]. stream_options
 * given means include_usage unless it says false; continuous_usage_stats (with it) puts the usage so far on every
 * chunk. A generation the time limit ends gets an error event instead, and no [DONE]; a client that goes away
 * aborts its generation, which frees its slot.
 */
import type { ApiError } from '../http/errors.js';
import { SSE_DONE, sseError, sseEvent, sseJson } from '../http/sse.js';
import type { GenerationResult } from '../engine/generation/generation-engine.js';
import { chunk, usageChunk, usageOf, type ApiKind, type ResponseMeta } from '../protocol/completion-shapes.js';
import type { CompletionRequest } from '../protocol/openai-schemas.js';

export interface StreamedGeneration {
  kind: ApiKind;
  meta: ResponseMeta;
  promptTokens: number;
  streamOptions: CompletionRequest['stream_options'];
  /** Aborted when the client cancels the body, or the body takes no more. */
  abort: AbortController;
  /** Why a cancelled generation ended, when the client should be told (the time limit); null otherwise. */
  cancelledBy: () => ApiError | null;
  /** Starts the generation with the text callback; throws when the engine refuses it (the stream is then never sent). */
  start: (onText: (text: string, completionTokens: number) => void) => Promise<GenerationResult>;
}

export function streamAnswer(generation: StreamedGeneration): Response {
  const { kind, meta, promptTokens, streamOptions } = generation;
  const includeUsage = streamOptions != null && streamOptions.include_usage !== false;
  const continuous = includeUsage && streamOptions?.continuous_usage_stats === true;
  const usageSoFar = (completionTokens: number) => (continuous ? usageOf(promptTokens, completionTokens) : includeUsage ? null : undefined);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (ctrl) => void (controller = ctrl),
    cancel: () => generation.abort.abort(), // the client went away: free its slot
  });
  const send = (event: Uint8Array) => {
    try {
      controller.enqueue(event);
    } catch {
      generation.abort.abort();
    }
  };
  if (kind === 'chat') send(sseJson(chunk(kind, meta, { role: true, usage: usageSoFar(0) })));
  const done = generation.start((text, tokens) => send(sseJson(chunk(kind, meta, { text, usage: usageSoFar(tokens) }))));
  done
    .then((result) => {
      if (result.finishReason === 'cancelled') {
        const error = generation.cancelledBy();
        if (error) send(sseError(error.message, error.type, error.code));
      } else {
        send(sseJson(chunk(kind, meta, { finish: result.finishReason, usage: usageSoFar(result.completionTokens) })));
        if (includeUsage) send(sseJson(usageChunk(kind, meta, usageOf(result.promptTokens, result.completionTokens))));
        send(sseEvent(SSE_DONE));
      }
    })
    .catch(() => send(sseError('the generation failed', 'server_error', 'internal_error')))
    .finally(() => {
      try {
        controller.close();
      } catch {
        // already closed by the client
      }
    });
  return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' } });
}
