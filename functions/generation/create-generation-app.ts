/**
 * The generation server's app (what a GPU container runs): OpenAI-compatible /v1/completions and
 * /v1/chat/completions, streamed as server-sent events exactly as OpenAI and vLLM send them, over engines that
 * batch concurrent requests continuously. Runtime-agnostic: engines, clock and ids are injected.
 */
import { Hono } from 'hono';
import { limitedBody } from '../http/body-limit.js';
import { ApiError, errorResponse, modelNotFound } from '../http/errors.js';
import { readJsonObject } from '../http/json-body.js';
import { parseBody } from '../http/validate.js';
import type { GenerationEngine } from '../engine/generation/generation-engine.js';
import type { GenerationCall } from '../protocol/generation-call.js';
import { ChatCompletionRequest, CompletionRequest } from '../protocol/openai-schemas.js';
import { LocalGenerator } from './local-generator.js';

export interface GenerationAppOptions {
  models: Map<string, GenerationEngine>;
  /** Whole-request limit; a stream past it ends with an error event. */
  requestTimeoutMs: number;
  /** Largest request body; default: 1 MiB, or more for a model whose context holds more text (JSON escapes included). */
  maxBodyBytes?: number;
  newId?: () => string;
  now?: () => number;
}

export function createGenerationApp(options: GenerationAppOptions): Hono {
  const app = new Hono();
  const generatorOptions = {
    requestTimeoutMs: options.requestTimeoutMs,
    newId: options.newId ?? (() => crypto.randomUUID().replaceAll('-', '')),
    now: options.now ?? (() => Date.now()),
  };
  const generators = new Map([...options.models].map(([name, engine]) => [name, new LocalGenerator(engine, generatorOptions)]));
  const largestPrompt = Math.max(0, ...[...options.models.values()].map((e) => e.decoder.shape.maxPositions * e.tokenizer.maxPieceBytes));
  const maxBodyBytes = options.maxBodyBytes ?? Math.max(1024 * 1024, 8 * largestPrompt);

  const answer = (call: GenerationCall): Promise<Response> => {
    const generator = generators.get(call.request.model);
    if (!generator) throw modelNotFound(call.request.model, [...generators.keys()]);
    return call.request.stream ? generator.stream(call) : generator.generate(call);
  };

  // JSON.parse and validation run on the event loop: bound what one request can hand them. The router's limit
  // (413 body_too_large with Connection: close), which checks a sized body from its header alone.
  app.use('*', limitedBody(maxBodyBytes));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [...options.models.entries()].map(([id, engine]) => ({ id, object: 'model', created: 0, owned_by: 'edge-maas', max_model_len: engine.decoder.shape.maxPositions })),
    }),
  );
  app.post('/v1/completions', async (c) => {
    const body = await readJsonObject(c);
    return answer({ kind: 'completion', request: parseBody(CompletionRequest, body), body, signal: c.req.raw.signal });
  });
  app.post('/v1/chat/completions', async (c) => {
    const body = await readJsonObject(c);
    return answer({ kind: 'chat', request: parseBody(ChatCompletionRequest, body), body, signal: c.req.raw.signal });
  });
  app.notFound((c) => errorResponse(c, new ApiError(404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, 'invalid_request_error', 'not_found')));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error(`generation request failed: ${error instanceof Error ? error.name : 'error'}`);
    return errorResponse(c, new ApiError(500, 'internal error', 'server_error', 'internal_error'));
  });
  return app;
}
