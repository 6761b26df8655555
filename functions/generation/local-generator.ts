/**
 * The generation server's TextGenerator: OpenAI (chat) completion calls run on one ONNX GenerationEngine and
 * answered in vLLM's shapes, whole or streamed (completion-stream.ts). A prompt that cannot fit the model's
 * context beside max_tokens is refused before any work (prompt-limits.ts); a full queue is 503 with Retry-After,
 * a generation past the time limit 504.
 */
import { ApiError, invalidRequest } from '../http/errors.js';
import { QueueFullError } from '../engine/tasks/queue-full-error.js';
import type { GenerationEngine, GenerationRequest, GenerationResult } from '../engine/generation/generation-engine.js';
import { fullResponse, usageOf, type ResponseMeta } from '../protocol/completion-shapes.js';
import type { GenerationCall, OpenAiGenerator } from '../protocol/generation-call.js';
import { promptText } from '../protocol/request-text.js';
import { chatPromptIds } from './chat-prompt.js';
import { streamAnswer } from './completion-stream.js';
import { checkPromptFits } from './prompt-limits.js';

export interface LocalGeneratorOptions {
  /** Whole-request limit; a stream past it ends with an error event. */
  requestTimeoutMs: number;
  newId: () => string;
  now: () => number;
}

/** A call checked and tokenized: the engine's request, and what its answer is built from. */
interface Prepared {
  generation: GenerationRequest;
  meta: ResponseMeta;
  abort: AbortController;
  timeout: AbortSignal;
}

export class LocalGenerator implements OpenAiGenerator {
  constructor(readonly engine: GenerationEngine, private readonly options: LocalGeneratorOptions) {}

  async generate(call: GenerationCall): Promise<Response> {
    const { generation, meta } = this.prepare(call);
    const result = await this.start(generation);
    if (result.finishReason === 'cancelled') throw this.timedOut();
    return Response.json(fullResponse(call.kind, meta, { text: result.text, finish: result.finishReason, usage: usageOf(result.promptTokens, result.completionTokens) }));
  }

  async stream(call: GenerationCall): Promise<Response> {
    const { generation, meta, abort, timeout } = this.prepare(call);
    return streamAnswer({
      kind: call.kind, meta, abort, promptTokens: generation.promptIds.length, streamOptions: call.request.stream_options,
      cancelledBy: () => (timeout.aborted ? this.timedOut() : null),
      start: (onText) => this.start({ ...generation, onText }),
    });
  }

  private prepare(call: GenerationCall): Prepared {
    const context = this.engine.decoder.shape.maxPositions;
    const { request } = call;
    const asked = call.kind === 'chat' ? call.request.max_completion_tokens ?? call.request.max_tokens : call.request.max_tokens;
    if (asked !== undefined && asked >= context) {
      throw invalidRequest(`this model's maximum context length is ${context} tokens; max_tokens asks for ${asked}, which leaves no room for a prompt`, 'max_tokens', 'context_length_exceeded');
    }
    // Tokens the reply needs at least: what max_tokens asks for, else the default (16 for completions), else one.
    const promptIds = this.promptIds(call, asked ?? (call.kind === 'completion' ? 16 : 1));
    const maxTokens = asked ?? (call.kind === 'completion' ? 16 : context - promptIds.length);
    if (promptIds.length + maxTokens > context) {
      throw invalidRequest(`this model's maximum context length is ${context} tokens; the prompt has ${promptIds.length} and max_tokens asks for ${maxTokens}`, 'max_tokens', 'context_length_exceeded');
    }
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const abort = new AbortController();
    const meta: ResponseMeta = { id: `${call.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${this.options.newId()}`, created: Math.floor(this.options.now() / 1000), model: request.model };
    const generation: GenerationRequest = {
      promptIds, maxTokens, signal: AbortSignal.any([abort.signal, timeout, call.signal]),
      sampling: { temperature: request.temperature ?? 1, topP: request.top_p ?? 1, topK: Math.max(0, request.top_k ?? 0) },
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 31),
      stop: request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop,
    };
    return { generation, meta, abort, timeout };
  }

  /** `reserved`: tokens kept for the reply; a prompt that cannot fit beside them is refused before tokenizing. */
  private promptIds(call: GenerationCall, reserved: number): number[] {
    if (call.kind === 'chat') return chatPromptIds(this.engine, call.request.messages, reserved);
    const text = promptText(call.request);
    checkPromptFits(this.engine, text, { addBos: true, reserved, param: 'prompt' });
    return this.engine.tokenizer.encode(text);
  }

  private start(generation: GenerationRequest): Promise<GenerationResult> {
    try {
      return this.engine.generate(generation);
    } catch (error) {
      if (error instanceof QueueFullError) throw new ApiError(503, 'the model is overloaded: its queue is full', 'server_error', 'overloaded', null, { 'Retry-After': '1' });
      throw error;
    }
  }

  private timedOut(): ApiError {
    return new ApiError(504, `the generation took longer than ${this.options.requestTimeoutMs} ms`, 'server_error', 'timeout');
  }
}
