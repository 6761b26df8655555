/**
 * POST /models/:id, compatible with the Hugging Face Inference API for text classification:
 * { inputs: string | string[], parameters?: { top_k?, function_to_apply? } } → [[{ label, score }, ...], ...],
 * one list per input (the API nests a single input too, and the official client reads it that way).
 */
import { Hono } from 'hono';
import { rankLabels } from '../../engine/classification/scores.js';
import type { ClassificationEngine } from '../../engine/classification/classification-engine.js';
import type { Registry } from '../../registry/registry.js';
import type { AppEnv } from '../../http/request-context.js';
import { errorResponse } from '../../http/errors.js';
import { readJsonObject } from '../../http/json-body.js';
import { HfClassifyRequest } from '../schemas.js';
import { parseBody } from '../../http/validate.js';
import { batchOf, classifyTexts } from './classify.js';
import { unknownModel } from './models.js';

export function hfInferenceRoutes(registry: Registry, engines: Map<string, ClassificationEngine>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/:id{.+}', async (c) => {
    const request = parseBody(HfClassifyRequest, await readJsonObject(c));
    const model = registry.resolve(c.req.param('id'));
    if (!model) return errorResponse(c, unknownModel(registry, c.req.param('id')));
    const texts = batchOf(request.inputs, model, 'inputs');
    const k = Math.min(request.parameters?.top_k ?? model.labels.length, model.labels.length);
    const fn = request.parameters?.function_to_apply ?? 'softmax';
    const { engine, results } = await classifyTexts(c, model, engines, texts);
    return c.json(results.map((r) => rankLabels(r.logits, engine.labels, fn, k)));
  });
  return app;
}
