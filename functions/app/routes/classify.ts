/** POST /v1/classify: { model?, input: string | string[], top_k? } → labels and scores per input. */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { QueueFullError } from '../../engine/tasks/queue-full-error.js';
import { rankLabels } from '../../engine/classification/scores.js';
import type { TextClassifier } from '../../engine/tasks/text-classifier.js';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { classificationEstimate } from '../../registry/usage-estimate.js';
import type { AppEnv } from '../../http/request-context.js';
import { ApiError, errorResponse, invalidRequest } from '../../http/errors.js';
import { jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { clientErrors } from '../openapi/responses.js';
import { ClassifyRequest, ClassifyResponse } from '../schemas.js';
import { unknownModel } from './models.js';

/** What the classification routes run on: the catalog, and the classifier of each edge model (by id@version). */
export interface ClassificationDeps {
  registry: Registry;
  engines: Map<string, TextClassifier>;
}

/** One text becomes a batch of one; a batch may hold at most the model's max_batch texts. */
export function batchOf(input: string | string[], model: ModelEntry, param: string): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  if (texts.length > model.maxBatch) throw invalidRequest(`"${param}" holds ${texts.length} texts; at most ${model.maxBatch} per request for ${modelRef(model)}`, param);
  return texts;
}

/** Runs texts through the model's engine; 400 for a model that does not classify, 503 when its queue is full. */
export async function classifyTexts(c: Context<AppEnv>, { model, texts, engines }: { model: ModelEntry; texts: string[]; engines: ClassificationDeps['engines'] }) {
  const engine = engines.get(modelRef(model));
  if (model.task !== 'text-classification' || !engine) {
    throw invalidRequest(`model "${modelRef(model)}" does not classify text here`, 'model', 'wrong_task');
  }
  await c.var.admit(classificationEstimate(model, texts));
  try {
    const results = await engine.classify(texts);
    c.header('Server-Timing', `tokenize;dur=${results[0]!.tokenizeMs.toFixed(3)}, inference;dur=${results[0]!.inferenceMs.toFixed(3)}`);
    Object.assign(c.var.meter, {
      model: model.id, modelVersion: model.version, path: 'edge', price: model.price,
      inputTokens: results.reduce((sum, r) => sum + r.tokens, 0), outputTokens: 0,
      computeMs: results[0]!.tokenizeMs + results[0]!.inferenceMs,
    });
    return { engine, results };
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new ApiError(503, error.message, 'server_error', 'overloaded', null, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    throw error;
  }
}

const classify = (registry: Registry) => createRoute({
  method: 'post', path: '/v1/classify', summary: 'Classify one text or a batch',
  description: `Texts from concurrent requests are batched together on the engine. Models: ${registry.names().join(', ')}.`,
  request: { body: { required: true, content: { 'application/json': { schema: ClassifyRequest } } } },
  responses: { 200: jsonResponse(ClassifyResponse, 'Labels and scores per text.'), ...clientErrors },
});

export function classifyRoutes({ registry, engines }: ClassificationDeps): RouteGroup {
  const group = routeGroup();
  declareRoute(group, classify(registry), async (c) => {
    const request = c.req.valid('json');
    const model = registry.resolve(request.model);
    if (!model) return errorResponse(c, unknownModel(registry, request.model ?? ''));
    const texts = batchOf(request.input, model, 'input');
    const k = Math.min(request.top_k ?? model.labels.length, model.labels.length);
    const { engine, results } = await classifyTexts(c, { model, texts, engines });
    return c.json({
      model: modelRef(model),
      results: results.map((r) => rankLabels(r.logits, engine.labels, 'softmax', k)),
      truncated: results.map((r) => r.truncated),
      usage: { input_tokens: results.reduce((sum, r) => sum + r.tokens, 0), texts: results.length },
    });
  });
  return group;
}
