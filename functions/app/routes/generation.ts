/**
 * POST /v1/chat/completions and /v1/completions on the router: validated with the generation server's own
 * schemas, checked against the registry (gpu-upstream text-generation models, their max_tokens), then sent to
 * the model's upstreams through their TextGenerator (the body as the client sent it, but for the personal data the
 * privacy policy masks or refuses, functions/privacy/); streams pass through unbuffered (masked as they pass).
 */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import type { GenerationCall, OpenAiGenerator, ValidatedGeneration } from '../../protocol/generation-call.js';
import { ChatCompletionRequest, CompletionRequest } from '../../protocol/openai-schemas.js';
import { messageText, promptText } from '../../protocol/request-text.js';
import { generationEstimate, promptTokenBound } from '../../registry/usage-estimate.js';
import type { AppEnv } from '../../http/request-context.js';
import { invalidRequest } from '../../http/errors.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { hasEventStreamType } from '../../http/sse.js';
import { upstreamInvalidAnswer } from '../../upstream/upstream-errors.js';
import { observeJson, observeStream } from '../../upstream/usage-observer.js';
import { maskEventStream, maskJsonAnswer } from '../../privacy/mask-answer.js';
import { screenGenerationBody } from '../../privacy/screen.js';
import { clientErrors, completionAnswer, upstreamErrors } from '../openapi/responses.js';
import { unknownModel } from './models.js';

export interface GenerationDeps {
  registry: Registry;
  /** The TextGenerator that serves a gpu-upstream model (the upstream client over its upstreams). */
  generatorFor: (model: ModelEntry) => OpenAiGenerator;
  /** The version a traffic route gives this caller for the name (functions/traffic/), or null: the registry decides. */
  routeModel?: (c: Context<AppEnv>, name: string) => Promise<ModelEntry | null>;
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
  responses: { 200: completionAnswer(`The ${spec.answer}`), ...clientErrors, ...upstreamErrors },
});

const completions = generationRoute({
  path: '/v1/completions', summary: 'Text completion (OpenAI API), from a gpu-upstream model',
  schema: CompletionRequest.openapi('CompletionRequest'), request: 'completions', answer: 'completion',
});
const chatCompletions = generationRoute({
  path: '/v1/chat/completions', summary: 'Chat completion (OpenAI API), from a gpu-upstream model',
  schema: ChatCompletionRequest.openapi('ChatCompletionRequest'), request: 'chat completions', answer: 'chat completion',
});

async function forward(c: Context<AppEnv>, generation: ValidatedGeneration, { registry, generatorFor, routeModel }: GenerationDeps): Promise<Response> {
  const { request } = generation;
  const model = (await routeModel?.(c, request.model)) ?? registry.resolve(request.model);
  if (!model) throw unknownModel(registry, request.model, 'text-generation');
  if (model.task !== 'text-generation' || model.runtime !== 'gpu-upstream') {
    throw invalidRequest(`model "${modelRef(model)}" does not generate text; use POST /v1/classify`, 'model', 'wrong_task');
  }
  const asked = (generation.kind === 'chat' ? generation.request.max_completion_tokens : undefined) ?? request.max_tokens;
  if (asked !== undefined && asked > model.maxTokens) {
    throw invalidRequest(`max_tokens is ${asked}; ${modelRef(model)} allows at most ${model.maxTokens}`, 'max_tokens');
  }
  // The privacy policy (privacy-plugin.ts): personal data masked, or the request refused, before any text leaves.
  const privacy = c.get('privacy');
  const body = privacy ? screenGenerationBody(c.get('jsonBody')!, privacy) : c.get('jsonBody')!; // read by the route's body validator
  const promptParts = generation.kind === 'chat' ? generation.request.messages.map((m) => messageText(m.content)) : [promptText(generation.request)];
  await c.get('admit')(generationEstimate(model, promptTokenBound(promptParts, generation.kind === 'chat'), asked ?? model.maxTokens));
  const meter = Object.assign(c.get('meter'), { model: model.id, modelVersion: model.version, path: 'gpu' as const, price: model.price });
  const streamOptions = (body.stream_options ?? {}) as Record<string, unknown>;
  // Usage on every chunk (vLLM's continuous_usage_stats): a stream cut short is still billed its prompt.
  const forwarded = request.stream ? { ...body, stream_options: { ...streamOptions, include_usage: true, continuous_usage_stats: true } } : body;
  const call: GenerationCall = { ...generation, body: forwarded, signal: c.req.raw.signal, region: privacy?.region };
  const generator = generatorFor(model);
  const started = Date.now();
  const response = await (request.stream ? generator.stream(call) : generator.generate(call));
  if (!response.ok) return response;
  if (request.stream && !hasEventStreamType(response)) {
    await response.body?.cancel();
    throw upstreamInvalidAnswer(`the model's server answered a streamed request with ${response.headers.get('content-type') ?? 'no content type'}, not an event stream`);
  }
  if (!request.stream) {
    meter.computeMs = Date.now() - started;
    const answer = await observeJson(response, meter);
    return privacy && privacy.pii !== 'off' ? maskJsonAnswer(answer) : answer;
  }
  const final = streamOptions.include_usage === true;
  const streamed = observeStream(response, meter, { shown: { final, continuous: final && streamOptions.continuous_usage_stats === true }, started, now: Date.now });
  return privacy && privacy.pii !== 'off' ? maskEventStream(streamed) : streamed;
}

export function generationRoutes(deps: GenerationDeps): RouteGroup {
  const group = routeGroup();
  declareRoute(group, completions, (c) => forward(c, { kind: 'completion', request: c.req.valid('json') }, deps));
  declareRoute(group, chatCompletions, (c) => forward(c, { kind: 'chat', request: c.req.valid('json') }, deps));
  return group;
}
