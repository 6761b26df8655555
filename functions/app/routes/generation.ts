/**
 * POST /v1/chat/completions and /v1/completions on the router: validated with the generation server's own
 * schemas, checked against the registry (gpu-upstream text-generation models, their max_tokens), then sent to
 * the model's upstreams; streams pass through unbuffered.
 */
import { Hono } from 'hono';
import type { Registry } from '../../registry/registry.js';
import { modelRef } from '../../registry/registry.js';
import { ChatCompletionRequest, CompletionRequest } from '../../protocol/openai-schemas.js';
import { generationEstimate, promptTokenBound } from '../../registry/usage-estimate.js';
import type { AppEnv } from '../../http/request-context.js';
import { invalidRequest } from '../../http/errors.js';
import { readJsonObject } from '../../http/json-body.js';
import type { UpstreamClient } from '../../upstream/upstream-client.js';
import { observeJson, observeStream } from '../../upstream/usage-observer.js';
import { parseBody } from '../../http/validate.js';
import { unknownModel } from './models.js';

export function generationRoutes(registry: Registry, upstreams: UpstreamClient): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const forward = (path: '/chat/completions' | '/completions', schema: typeof ChatCompletionRequest | typeof CompletionRequest) =>
    app.post(path, async (c) => {
      const body = await readJsonObject(c);
      const request = parseBody(schema, body);
      const model = registry.resolve(request.model);
      if (!model) throw unknownModel(registry, request.model);
      if (model.task !== 'text-generation' || model.runtime !== 'gpu-upstream') {
        throw invalidRequest(`model "${modelRef(model)}" does not generate text; use POST /v1/classify`, 'model', 'wrong_task');
      }
      const asked = ('max_completion_tokens' in request ? request.max_completion_tokens : undefined) ?? request.max_tokens;
      if (asked !== undefined && asked > model.maxTokens) {
        throw invalidRequest(`max_tokens is ${asked}; ${modelRef(model)} allows at most ${model.maxTokens}`, 'max_tokens');
      }
      const promptParts = 'messages' in request
        ? request.messages.map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('')))
        : [typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!];
      await c.var.admit(generationEstimate(model, promptTokenBound(promptParts, 'messages' in request), asked ?? model.maxTokens));
      const meter = Object.assign(c.var.meter, { model: model.id, modelVersion: model.version, path: 'gpu' as const, price: model.price });
      const streamOptions = (body.stream_options ?? {}) as Record<string, unknown>;
      // Usage on every chunk (vLLM's continuous_usage_stats): a stream cut short is still billed its prompt.
      const forwarded = request.stream ? { ...body, stream_options: { ...streamOptions, include_usage: true, continuous_usage_stats: true } } : body;
      const started = Date.now();
      const response = await upstreams.post(model.upstreams, path, forwarded, c.req.raw.signal);
      if (!response.ok) return response;
      if (!request.stream) {
        meter.computeMs = Date.now() - started;
        return observeJson(response, meter);
      }
      const final = streamOptions.include_usage === true;
      return observeStream(response, meter, { final, continuous: final && streamOptions.continuous_usage_stats === true }, started, Date.now);
    });
  forward('/chat/completions', ChatCompletionRequest);
  forward('/completions', CompletionRequest);
  return app;
}
