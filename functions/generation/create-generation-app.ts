/**
 * The generation server's app (what a GPU container runs): OpenAI-compatible /v1/completions and
 * /v1/chat/completions, streamed as server-sent events exactly as OpenAI and vLLM send them, over engines that
 * batch concurrent requests continuously. Runtime-agnostic: engines, clock and ids are injected.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError, errorResponse, invalidRequest } from '../http/errors.js';
import { readJsonObject } from '../http/json-body.js';
import { parseBody } from '../http/validate.js';
import { QueueFullError } from '../engine/classification/micro-batcher.js';
import type { GenerationEngine, GenerationRequest } from '../engine/generation/generation-engine.js';
import { chatPromptIds } from './chat-prompt.js';
import { chunk, fullResponse, usageChunk, usageOf, type ApiKind, type ResponseMeta } from '../protocol/completion-shapes.js';
import { ChatCompletionRequest, CompletionRequest } from '../protocol/openai-schemas.js';
import { checkPromptFits } from './prompt-limits.js';

export interface GenerationAppOptions {
  models: Map<string, GenerationEngine>;
  /** Whole-request limit; a stream past it ends with an error event. */
  requestTimeoutMs: number;
  /** Largest request body; default: 1 MiB, or more for a model whose context holds more text (JSON escapes included). */
  maxBodyBytes?: number;
  newId?: () => string;
  now?: () => number;
}

type Sampled = CompletionRequest | ChatCompletionRequest;

const encoder = new TextEncoder();
const sse = (data: unknown) => encoder.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

export function createGenerationApp(options: GenerationAppOptions): Hono {
  const app = new Hono();
  const newId = options.newId ?? (() => crypto.randomUUID().replaceAll('-', ''));
  const now = options.now ?? (() => Date.now());
  const largestPrompt = Math.max(0, ...[...options.models.values()].map((e) => e.decoder.shape.maxPositions * e.tokenizer.maxPieceBytes));
  const maxBodyBytes = options.maxBodyBytes ?? Math.max(1024 * 1024, 8 * largestPrompt);

  const engineFor = (name: string) => {
    const engine = options.models.get(name);
    if (!engine) throw new ApiError(404, `model "${name}" does not exist; available: ${[...options.models.keys()].join(', ')}`, 'invalid_request_error', 'model_not_found', 'model');
    return engine;
  };

  async function generate(c: Context, kind: ApiKind, request: Sampled, prompt: (engine: GenerationEngine, reserved: number) => number[], maxTokensAsked: number | undefined): Promise<Response> {
    const engine = engineFor(request.model);
    const context = engine.decoder.shape.maxPositions;
    if (maxTokensAsked !== undefined && maxTokensAsked >= context) {
      throw invalidRequest(`this model's maximum context length is ${context} tokens; max_tokens asks for ${maxTokensAsked}, which leaves no room for a prompt`, 'max_tokens', 'context_length_exceeded');
    }
    // Tokens the reply needs at least: what max_tokens asks for, else the default (16 for completions), else one.
    const promptIds = prompt(engine, maxTokensAsked ?? (kind === 'completion' ? 16 : 1));
    const maxTokens = maxTokensAsked ?? (kind === 'completion' ? 16 : context - promptIds.length);
    if (promptIds.length + maxTokens > context) {
      throw invalidRequest(`this model's maximum context length is ${context} tokens; the prompt has ${promptIds.length} and max_tokens asks for ${maxTokens}`, 'max_tokens', 'context_length_exceeded');
    }
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, timeout, c.req.raw.signal]);
    const meta: ResponseMeta = { id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${newId()}`, created: Math.floor(now() / 1000), model: request.model };
    const generation: GenerationRequest = {
      promptIds, maxTokens, signal,
      sampling: { temperature: request.temperature ?? 1, topP: request.top_p ?? 1, topK: Math.max(0, request.top_k ?? 0) },
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 31),
      stop: request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop,
    };
    const timedOut = () => new ApiError(504, `the generation took longer than ${options.requestTimeoutMs} ms`, 'server_error', 'timeout');
    const start = (g: GenerationRequest) => {
      try {
        return engine.generate(g);
      } catch (error) {
        if (error instanceof QueueFullError) throw new ApiError(503, 'the model is overloaded: its queue is full', 'server_error', 'overloaded', null, { 'Retry-After': '1' });
        throw error;
      }
    };

    if (!request.stream) {
      const result = await start(generation);
      if (result.finishReason === 'cancelled') throw timedOut();
      return c.json(fullResponse(kind, meta, result.text, result.finishReason, usageOf(result.promptTokens, result.completionTokens)));
    }

    // As vLLM: stream_options given means include_usage unless it says false; continuous_usage_stats needs it.
    const streamOptions = request.stream_options;
    const includeUsage = streamOptions != null && streamOptions.include_usage !== false;
    const continuous = includeUsage && streamOptions?.continuous_usage_stats === true;
    const usageSoFar = (completionTokens: number) => (continuous ? usageOf(promptIds.length, completionTokens) : includeUsage ? null : undefined);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => void (controller = ctrl),
      cancel: () => abort.abort(), // the client went away: free its slot
    });
    const send = (data: unknown) => {
      try {
        controller.enqueue(sse(data));
      } catch {
        abort.abort();
      }
    };
    if (kind === 'chat') send(chunk(kind, meta, { role: true }, null, usageSoFar(0)));
    const done = start({ ...generation, onText: (text, tokens) => send(chunk(kind, meta, { text }, null, usageSoFar(tokens))) });
    done
      .then((result) => {
        if (result.finishReason === 'cancelled') {
          if (timeout.aborted) {
            const error = timedOut();
            send({ error: { message: error.message, type: error.type, code: error.code, param: null } });
          }
        } else {
          send(chunk(kind, meta, {}, result.finishReason, usageSoFar(result.completionTokens)));
          if (includeUsage) send(usageChunk(kind, meta, usageOf(result.promptTokens, result.completionTokens)));
          send('[DONE]');
        }
      })
      .catch(() => send({ error: { message: 'the generation failed', type: 'server_error', code: 'internal_error', param: null } }))
      .finally(() => {
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      });
    return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' } });
  }

  // JSON.parse and validation run on the event loop: bound what one request can hand them.
  app.use('*', bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => errorResponse(c, new ApiError(413, `the body is over ${maxBodyBytes} bytes`, 'invalid_request_error', 'body_too_large', null, { Connection: 'close' })),
  }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [...options.models.entries()].map(([id, engine]) => ({ id, object: 'model', created: 0, owned_by: 'edge-maas', max_model_len: engine.decoder.shape.maxPositions })),
    }),
  );
  app.post('/v1/completions', async (c) => {
    const request = parseBody(CompletionRequest, await readJsonObject(c));
    const text = typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!;
    return generate(c, 'completion', request, (engine, reserved) => {
      checkPromptFits(engine, text, true, reserved, 'prompt');
      return engine.tokenizer.encode(text);
    }, request.max_tokens);
  });
  app.post('/v1/chat/completions', async (c) => {
    const request = parseBody(ChatCompletionRequest, await readJsonObject(c));
    return generate(c, 'chat', request, (engine, reserved) => chatPromptIds(engine, request.messages, reserved), request.max_completion_tokens ?? request.max_tokens);
  });
  app.notFound((c) => errorResponse(c, new ApiError(404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, 'invalid_request_error', 'not_found')));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error(`generation request failed: ${error instanceof Error ? error.name : 'error'}`);
    return errorResponse(c, new ApiError(500, 'internal error', 'server_error', 'internal_error'));
  });
  return app;
}
