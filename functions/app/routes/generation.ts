/**
 * POST /v1/chat/completions and /v1/completions on the router: validated with the generation server's own
 * schemas, checked against the registry (gpu-upstream text-generation models, their max_tokens), then sent to
 * the model's upstreams; streams pass through unbuffered.
 */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Registry } from '../../registry/registry.js';
import { modelRef } from '../../registry/registry.js';
import { ChatCompletionRequest, CompletionRequest } from '../../protocol/openai-schemas.js';
import { generationEstimate, promptTokenBound } from '../../registry/usage-estimate.js';
import type { AppEnv } from '../../http/request-context.js';
import { invalidRequest } from '../../http/errors.js';
import { meteringResponses } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { UpstreamClient } from '../../upstream/upstream-client.js';
import { observeJson, observeStream } from '../../upstream/usage-observer.js';
import { clientErrors, completionAnswer, upstreamErrors } from '../openapi/responses.js';
import { unknownModel } from './models.js';

export interface GenerationDeps {
  registry: Registry;
  upstreams: UpstreamClient;
}

interface GenerationRouteSpec<P extends string, S> {
  path: P;
  summary: string;
  schema: S;
  /** The request's name in OpenAI's API ("chat completions") and what its answer is ("chat completion"). */
  request: string;
  answer: string;
}

const generationRoute = <P extends string, S extends typeof CompletionRequest | typeof ChatCompletionRequest>(spec: GenerationRouteSpec<P, S>) => createRoute({
  method: 'post', path: spec.path, summary: spec.summary,
  request: { body: { description: `OpenAI ${spec.request} request; n must be 1.`, required: true, content: { 'application/json': { schema: spec.schema } } } },
  responses: { 200: completionAnswer(`The ${spec.answer}`), ...clientErrors, ...meteringResponses, ...upstreamErrors },
});

const completions = generationRoute({
  path: '/v1/completions', summary: 'Text completion (OpenAI API), from a gpu-upstream model',
  schema: CompletionRequest.openapi('CompletionRequest'), request: 'completions', answer: 'completion',
});
const chatCompletions = generationRoute({
  path: '/v1/chat/completions', summary: 'Chat completion (OpenAI API), from a gpu-upstream model',
  schema: ChatCompletionRequest.openapi('ChatCompletionRequest'), request: 'chat completions', answer: 'chat completion',
});

/** A validated generation request, and the path of its API on the upstream (as on this router, less /v1). */
interface Forwarding {
  request: CompletionRequest | ChatCompletionRequest;
  upstreamPath: '/completions' | '/chat/completions';
}

async function forward(c: Context<AppEnv>, { request, upstreamPath }: Forwarding, { registry, upstreams }: GenerationDeps): Promise<Response> {
  const body = c.var.jsonBody!; // read by the route's body validator
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
  const response = await upstreams.post(model.upstreams, upstreamPath, forwarded, c.req.raw.signal);
  if (!response.ok) return response;
  if (!request.stream) {
    meter.computeMs = Date.now() - started;
    return observeJson(response, meter);
  }
  const final = streamOptions.include_usage === true;
  return observeStream(response, meter, { final, continuous: final && streamOptions.continuous_usage_stats === true }, started, Date.now);
}

export function generationRoutes(deps: GenerationDeps): RouteGroup {
  const group = routeGroup();
  declareRoute(group, completions, (c) => forward(c, { request: c.req.valid('json'), upstreamPath: '/completions' }, deps));
  declareRoute(group, chatCompletions, (c) => forward(c, { request: c.req.valid('json'), upstreamPath: '/chat/completions' }, deps));
  return group;
}
